// s3 output pieces without a server: the settings table in docs/s3.md against the schema, the
// type-mapping table a row per type, exact numbers, credentials from settings/env/profile files,
// errors as one line without secrets, object names.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import {
  answered,
  connect,
  describeS3Error,
  NO_ANSWER,
  resolveCredentials,
  type S3Target,
} from "../../../src/providers/s3/client.ts";
import { Columns } from "../../../src/providers/s3/columns.ts";
import { extension, objectName, utcDay } from "../../../src/providers/s3/naming.ts";
import {
  durationMs,
  s3InputConfigSchema,
  s3OutputConfigSchema,
} from "../../../src/providers/s3/schema.ts";
import {
  convert,
  decimalUnscaled,
  fits,
  inferType,
  NumberText,
  needsExactParse,
  parseExact,
  timestampMicros,
  toJsonText,
  widen,
} from "../../../src/providers/s3/types.ts";

const docs = readFileSync(resolve(import.meta.dir, "../../../docs/s3.md"), "utf8");
const entries = (
  s3OutputConfigSchema as unknown as { pipe: [{ entries: Record<string, unknown> }] }
).pipe[0].entries;
const parse = (config: Record<string, unknown>) => v.safeParse(s3OutputConfigSchema, config);

/** The settings rows of the table that follows `heading` in docs/s3.md. */
function settingsTable(heading: string): { name: string; default: string }[] {
  const start = docs.indexOf(`\n${heading}\n`);
  if (start === -1) throw new Error(`docs/s3.md has no "${heading}"`);
  const after = docs.slice(start + heading.length + 2);
  const table = after.slice(0, after.search(/\n\n(?!\|)/));
  return [...table.matchAll(/^\| `([a-z_]+)` \| ([^|]+) \|/gm)].map((match) => ({
    name: match[1] as string,
    default: (match[2] as string).trim(),
  }));
}

describe("docs/s3.md settings tables", () => {
  const documented = settingsTable("## Settings");

  test("the input's table lists every input setting, in order", () => {
    const inputEntries = (s3InputConfigSchema as unknown as { entries: Record<string, unknown> })
      .entries;
    expect(settingsTable("### Input settings").map((row) => row.name)).toEqual(
      Object.keys(inputEntries),
    );
  });

  test("lists every setting of the schema, in its order, and nothing else", () => {
    expect(documented.map((row) => row.name)).toEqual(Object.keys(entries));
  });

  test("each plain default in the table is the schema's", () => {
    const parsed = parse({ bucket: "b" });
    expect(parsed.success).toBe(true);
    const output = parsed.output as Record<string, unknown>;
    for (const row of documented) {
      const literal = /^`(.+)`$/.exec(row.default)?.[1];
      if (!literal || row.default.includes(",") || literal.includes("`")) continue;
      expect(JSON.stringify(output[row.name])).toBe(
        literal.startsWith('"') || literal.startsWith("[")
          ? literal
          : JSON.stringify(JSON.parse(literal)),
      );
    }
  });

  test("bucket is required; the seed's form parses as written", () => {
    expect(parse({}).success).toBe(false);
    const seed = parse({ bucket: "my-data-lake", prefix: "events/2026-12-04/", format: "parquet" });
    expect(seed.success).toBe(true);
  });

  test("settings that do not go together are refused with the reason", () => {
    const eventTime = parse({ bucket: "b", partition: "event_time" });
    expect(eventTime.success).toBe(false);
    expect(eventTime.issues?.[0]?.message).toContain("needs time_field");
    const gzipParquet = parse({ bucket: "b", compression: "gzip" });
    expect(gzipParquet.issues?.[0]?.message).toBe(
      "parquet takes snappy, zstd or none; jsonl takes gzip, zstd or none",
    );
    expect(parse({ bucket: "b", schema: { a: "decimal(40,2)" } }).success).toBe(false);
    expect(parse({ bucket: "b", schema: { a: "decimal(38,2)" } }).success).toBe(true);
    expect(parse({ bucket: "b", max_age: "5 minutes" }).success).toBe(false);
    expect(parse({ bucket: "b", part_size: 1024 }).success).toBe(false);
  });
});

describe("durations (max_age, poll_interval)", () => {
  test.each([
    ["2s", 2000],
    ["500ms", 500],
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parse({ bucket: "b", max_age: text }).success).toBe(true);
    expect(durationMs(text)).toBe(ms);
  });

  test.each(["2", "2 s", "1d", "1.5s", "-2s", ""])("%p is refused with the form to use", (text) => {
    expect(parse({ bucket: "b", max_age: text }).issues?.[0]?.message).toBe(
      'must be like "90s", "5m"',
    );
  });
});

describe("addressing", () => {
  test.each([
    ["virtual", "http://s3.localhost:9000", "http://lake.s3.localhost:9000/events/a.parquet"],
    ["virtual", undefined, "https://lake.s3.eu-west-1.amazonaws.com/events/a.parquet"],
    ["path", "http://s3.localhost:9000", "http://s3.localhost:9000/lake/events/a.parquet"],
    ["path", undefined, "https://s3.eu-west-1.amazonaws.com/lake/events/a.parquet"],
    ["auto", "http://s3.localhost:9000", "http://s3.localhost:9000/lake/events/a.parquet"],
    ["auto", undefined, "https://lake.s3.eu-west-1.amazonaws.com/events/a.parquet"],
  ] as const)("%s with endpoint %p requests %s", (addressing, endpoint, url) => {
    const target = connect({
      bucket: "lake",
      addressing,
      endpoint,
      region: "eu-west-1",
      access_key_id: "k",
      secret_access_key: "s",
    });
    const signed = new URL(target.client.presign("events/a.parquet"));
    expect(`${signed.origin}${signed.pathname}`).toBe(url);
  });
});

describe("type mapping (one row per JSON type)", () => {
  test.each([
    ["boolean", true, "boolean", true],
    ["integer", 42, "int64", 42n],
    ["integer past 2^53", new NumberText("9007199254740993"), "int64", 9007199254740993n],
    ["integer past int64", new NumberText("9223372036854775808"), "double", 2 ** 63],
    ["fraction", 1.5, "double", 1.5],
    ["string", "zürich ☃", "string", "zürich ☃"],
  ] as const)("%s", (_label, value, kind, converted) => {
    const type = inferType(value);
    expect(type?.kind).toBe(kind);
    expect(convert(value, type as never)).toEqual(converted);
  });

  test("objects and arrays are JSON text, big numbers inside keep their digits", () => {
    const value = parseExact('{"a":[1,{"b":12345678901234567890}],"c":null}');
    expect(inferType((value as { a: unknown }).a)?.kind).toBe("json");
    expect(toJsonText(value)).toBe('{"a":[1,{"b":12345678901234567890}],"c":null}');
    expect(new TextDecoder().decode(convert(value, { kind: "json" }) as Uint8Array)).toBe(
      '{"a":[1,{"b":12345678901234567890}],"c":null}',
    );
  });

  test("null fits any column and stays null", () => {
    expect(inferType(null)).toBeUndefined();
    expect(convert(null, { kind: "int64" })).toBeNull();
  });

  test("int64 and double widen to double; nothing else widens", () => {
    expect(widen({ kind: "int64" }, { kind: "double" })).toEqual({ kind: "double" });
    expect(widen({ kind: "string" }, { kind: "int64" })).toBeUndefined();
    expect(fits({ kind: "double" }, { kind: "int64" })).toBe(true);
    expect(fits({ kind: "int64" }, { kind: "double" })).toBe(false);
  });

  test("a value that does not convert says what it is", () => {
    expect(() => convert("x", { kind: "int64" })).toThrow('"x" is not a whole number');
    expect(() => convert(1, { kind: "string" })).toThrow("1 is not a string");
  });

  test("parseExact keeps numbers JSON.parse would round; needsExactParse spots them", () => {
    expect(needsExactParse('{"a":9007199254740993}', false)).toBe(true);
    expect(needsExactParse('{"a":123}', false)).toBe(false);
    expect(needsExactParse('{"a":1.25}', true)).toBe(true);
    const parsed = parseExact('{"a":9007199254740993,"b":1,"c":0.1}') as Record<string, unknown>;
    expect(parsed.a).toEqual(new NumberText("9007199254740993"));
    expect(parsed.b).toBe(1);
    expect(parsed.c).toEqual(new NumberText("0.1"));
  });

  test("decimals are exact, and too many digits or decimals is an error", () => {
    const type = { precision: 20, scale: 4 };
    expect(decimalUnscaled(new NumberText("12345678901234.5678"), type)).toBe(123456789012345678n);
    expect(decimalUnscaled("-12.5", { precision: 9, scale: 2 })).toBe(-1250n);
    expect(decimalUnscaled(3, { precision: 9, scale: 2 })).toBe(300n);
    expect(decimalUnscaled(new NumberText("1.5e2"), { precision: 9, scale: 2 })).toBe(15000n);
    expect(decimalUnscaled("1.500", { precision: 9, scale: 2 })).toBe(150n);
    expect(() => decimalUnscaled("1.505", { precision: 9, scale: 2 })).toThrow(
      "more than 2 decimals",
    );
    expect(() => decimalUnscaled("12345678.9", { precision: 9, scale: 2 })).toThrow(
      "more than 9 digits",
    );
    expect(() => decimalUnscaled("abc", type)).toThrow("is not a decimal number");
  });

  test("timestamps: RFC 3339 with offset and microseconds, or epoch milliseconds", () => {
    expect(timestampMicros("2026-12-04T23:59:59.123456Z")).toBe(1796428799123456n);
    expect(timestampMicros("2026-01-01T01:00:00+01:00")).toBe(1767225600000000n);
    expect(timestampMicros(1733356800000)).toBe(1733356800000000n);
    expect(() => timestampMicros("yesterday")).toThrow("is not an RFC 3339 time");
  });
});

describe("credentials", () => {
  const settings = { bucket: "b", addressing: "auto" as const };

  test("settings win, then AWS_* variables; a half pair is an error", () => {
    const env = {
      AWS_ACCESS_KEY_ID: "envkey",
      AWS_SECRET_ACCESS_KEY: "envsecret",
      HOME: "/nonexistent",
    };
    expect(
      resolveCredentials({ ...settings, access_key_id: "k", secret_access_key: "s" }, env),
    ).toMatchObject({ accessKeyId: "k", source: "settings" });
    expect(resolveCredentials(settings, env)).toMatchObject({
      accessKeyId: "envkey",
      secretAccessKey: "envsecret",
      region: "us-east-1",
    });
    expect(() => resolveCredentials({ ...settings, access_key_id: "k" }, env)).toThrow(
      "access_key_id and secret_access_key go together",
    );
  });

  test("profile files: credentials and region from ~/.aws, by AWS_PROFILE or the setting", () => {
    const home = mkdtempSync(join(tmpdir(), "dstream-aws-"));
    try {
      mkdirSync(join(home, ".aws"));
      writeFileSync(
        join(home, ".aws", "credentials"),
        "[default]\naws_access_key_id = dkey\naws_secret_access_key = dsecret\n\n[lake]\naws_access_key_id=lkey\naws_secret_access_key=lsecret\naws_session_token=ltoken\n",
      );
      writeFileSync(join(home, ".aws", "config"), "[profile lake]\nregion = eu-west-1\n");
      expect(resolveCredentials(settings, { HOME: home })).toMatchObject({
        accessKeyId: "dkey",
        source: "profile default",
      });
      expect(resolveCredentials(settings, { HOME: home, AWS_PROFILE: "lake" })).toMatchObject({
        accessKeyId: "lkey",
        sessionToken: "ltoken",
        region: "eu-west-1",
        source: "profile lake",
      });
      expect(() => resolveCredentials({ ...settings, profile: "nope" }, { HOME: home })).toThrow(
        'profile "nope" has no aws_access_key_id',
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("request_timeout", () => {
  test("defaults to 30s; 0 and words are refused", () => {
    const parsed = v.safeParse(s3OutputConfigSchema, { bucket: "b" });
    expect(parsed.success && parsed.output.request_timeout).toBe("30s");
    expect(connect({ bucket: "b", addressing: "auto", region: "us-east-1" }).timeoutMs).toBe(
      30_000,
    );
    for (const request_timeout of ["0s", "soon"])
      expect(v.safeParse(s3OutputConfigSchema, { bucket: "b", request_timeout }).success).toBe(
        false,
      );
    expect(v.safeParse(s3InputConfigSchema, { bucket: "b", request_timeout: "2m" }).success).toBe(
      true,
    );
  });

  test("a request that does not answer in time fails with NO_ANSWER; one that does is untouched", async () => {
    const target = { timeout: "50ms", timeoutMs: 50 } as S3Target;
    const started = Date.now();
    const never = answered(target, new Promise(() => {}));
    expect(never).rejects.toMatchObject({ code: NO_ANSWER, message: "no answer within 50ms" });
    await never.catch(() => {});
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await answered(target, Promise.resolve(7))).toBe(7);
  });

  test("fetch's AbortSignal.timeout (CreateBucket) reads as no answer", () => {
    const target = {
      where: "bucket b at http://x",
      timeout: "30s",
      credentials: { source: "settings" },
    } as S3Target;
    const timedOut = new DOMException("The operation timed out.", "TimeoutError");
    expect(describeS3Error(timedOut, target, "creating the bucket").message).toBe(
      "s3: creating the bucket in bucket b at http://x failed: no answer within 30s (request_timeout); check endpoint and the network, or raise request_timeout",
    );
  });
});

describe("columns kept for the run", () => {
  test("int64 widens to double and stays; a number or boolean in a string column is its text", () => {
    const columns = new Columns(false);
    columns.merge({ amount: 5, note: null }, "sequence 1");
    expect(columns.fit({ amount: 5.5 }, "sequence 2")).toBe(false);
    columns.merge({ amount: 5.5, note: "x" }, "sequence 2");
    expect(columns.fit({ amount: 7, note: 7 }, "sequence 3")).toBe(true);
    expect(columns.coerce({ amount: 7, note: 7 })).toEqual({ amount: 7, note: "7" });
    expect(columns.coerce({ note: true })).toEqual({ note: "true" });
    expect(Object.fromEntries([...columns.types].map(([name, type]) => [name, type.kind]))).toEqual(
      {
        amount: "double",
        note: "string",
      },
    );
  });

  test("a string in a number column is still an error naming the field and the sequence", () => {
    const columns = new Columns(false);
    columns.merge({ a: 1 }, "sequence 1");
    expect(() => columns.fit({ a: "two" }, "sequence 2")).toThrow(
      'field "a" at sequence 2 is string, but earlier rows made it int64',
    );
  });

  test("names that differ only in case are refused, in data and in a schema block", () => {
    expect(() => new Columns(false).merge({ Id: 1, id: 2 }, "sequence 4")).toThrow(
      's3: fields "Id" and "id" (at sequence 4) differ only in case',
    );
    expect(() =>
      Columns.declare(
        new Map([
          ["Name", { kind: "string" }],
          ["name", { kind: "string" }],
        ]),
      ),
    ).toThrow('s3: fields "Name" and "name" (the schema block) differ only in case');
  });
});

describe("errors", () => {
  const target = {
    bucket: "lake",
    where: "bucket lake at AWS eu-west-1",
    credentials: {
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrSECRET",
      region: "eu-west-1",
      source: "environment (AWS_ACCESS_KEY_ID)",
    },
    timeout: "30s",
    timeoutMs: 30_000,
  } as unknown as S3Target;
  const error = (code: string, message = "x") => Object.assign(new Error(message), { code });

  test.each([
    ["NoSuchBucket", "the bucket does not exist"],
    [
      "AccessDenied",
      "access denied (AccessDenied) with credentials from environment (AWS_ACCESS_KEY_ID)",
    ],
    ["InvalidAccessKeyId", "access denied (InvalidAccessKeyId)"],
    [
      "AuthorizationHeaderMalformed",
      'wrong region "eu-west-1" (AuthorizationHeaderMalformed); set region',
    ],
    ["PermanentRedirect", 'wrong region "eu-west-1"'],
    ["ConnectionRefused", "endpoint unreachable (ConnectionRefused)"],
    [
      NO_ANSWER,
      "no answer within 30s (request_timeout); check endpoint and the network, or raise request_timeout",
    ],
    [
      "DNSResolveFailed",
      "the endpoint's host name does not resolve (DNSResolveFailed); check endpoint (or region, for AWS) and DNS",
    ],
    ["ENOTFOUND", "the endpoint's host name does not resolve (ENOTFOUND)"],
  ])("%s: one line with the fix", (code, part) => {
    const message = describeS3Error(error(code), target, "listing").message;
    expect(message).toStartWith("s3: listing in bucket lake at AWS eu-west-1 failed: ");
    expect(message).toContain(part);
    expect(message).not.toContain("\n");
  });

  test("a key or secret a server echoes is scrubbed", () => {
    const message = describeS3Error(
      error("Weird", "key AKIAIOSFODNN7EXAMPLE with wJalrSECRET\nsecond line"),
      target,
      "writing k",
    ).message;
    expect(message).toBe(
      "s3: writing k in bucket lake at AWS eu-west-1 failed: Weird: key *** with ***",
    );
  });

  test("a short key id (a test server's) is left alone: it would blank ordinary words", () => {
    const short = { ...target, credentials: { ...target.credentials, accessKeyId: "dstream" } };
    const message = describeS3Error(error("Weird", "dstream: no"), short, "writing k").message;
    expect(message).toBe(
      "s3: writing k in bucket lake at AWS eu-west-1 failed: Weird: dstream: no",
    );
  });
});

describe("object names", () => {
  test("from the first sequence, zero-padded so keys sort in stream order", () => {
    expect(objectName(1)).toBe("00000000000000000001");
    expect(objectName(new NumberText("18446744073709551615"))).toBe("18446744073709551615");
    expect(objectName("2026-12-04.7")).toBe("2026-12-04.7");
    expect(objectName("../x")).toBeUndefined();
    expect(objectName(undefined)).toBeUndefined();
  });

  test("extensions by format and compression; UTC days for dt= folders", () => {
    const base = v.parse(s3OutputConfigSchema, { bucket: "b" });
    expect(extension(base)).toBe(".parquet");
    expect(extension({ ...base, format: "jsonl" })).toBe(".jsonl.gz");
    expect(extension({ ...base, format: "jsonl", compression: "zstd" })).toBe(".jsonl.zst");
    expect(extension({ ...base, format: "jsonl", compression: "none" })).toBe(".jsonl");
    expect(utcDay("2026-12-04T23:30:00-02:00")).toBe("2026-12-05");
    expect(utcDay(0)).toBe("1970-01-01");
    expect(utcDay("soon")).toBeUndefined();
  });
});
