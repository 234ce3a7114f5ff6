// s3 output as a real process (from source and the compiled binary) against SeaweedFS's S3 gateway
// (test/services/s3.sh), every object read back by pyarrow and counted by duckdb (from PyPI).
import { beforeAll, describe, expect, test } from "bun:test";
import { launchers, startProvider } from "./helpers.ts";
import {
  adminKeys,
  connection,
  createBucket,
  reader,
  readObjects,
  type S3Server,
  s3Server,
  uniqueBucket,
} from "./s3-helpers.ts";

let server: S3Server;
beforeAll(async () => {
  server = await s3Server();
}, 1_200_000);

const envelope = (config: Record<string, unknown>) =>
  JSON.stringify({ command: "run", config, protocol: 2, checkpoint: null });

const event = (sequence: number, data: Record<string, unknown> = { n: sequence }) =>
  `${JSON.stringify({ data, metadata: { provider: "test", sequence } })}\n`;

const checkpoint = (value: number) => `{"checkpoint":{"value":${value}}}\n`;

const echoes = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => line.startsWith('{"checkpoint":'))
    .map((line) => (JSON.parse(line) as { checkpoint: { value: number } }).checkpoint.value);

async function waitForEcho(
  provider: ReturnType<typeof startProvider>,
  value: number,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!echoes(provider.stdout).includes(value)) {
    if (Date.now() > deadline)
      throw new Error(`no echo of checkpoint ${value}; stdout: ${provider.stdout}`);
    await Bun.sleep(10);
  }
}

describe.each(launchers)("s3 output ($label)", (launcher) => {
  test("parquet: a checkpoint is echoed once the object with its rows is complete; types read back by pyarrow and duckdb", async () => {
    const bucket = uniqueBucket("types");
    await createBucket(server, bucket);
    const provider = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope({
        ...connection(server.endpoint, bucket),
        prefix: "events/",
        metadata_columns: ["sequence"],
        max_rows: 3,
      }),
    });
    const rows = [
      {
        id: 1,
        big: "9007199254740993",
        price: 1.25,
        ok: true,
        name: "zürich ☃ 雪",
        tags: { a: [1, 2], b: null },
        note: null,
      },
      { id: 2, big: "-9223372036854775808", price: 2, ok: false, name: "", tags: [], note: "x" },
      {
        id: 3,
        big: "9223372036854775807",
        price: -0.5,
        ok: null,
        name: "emoji 🎉",
        tags: { deep: { x: "BIGX" } },
        note: null,
      },
    ];
    // Ints past 2^53 go in as JSON numbers (unquoted), as a producer would send them.
    const lines = rows.map(
      (row, index) =>
        `${JSON.stringify({ data: row, metadata: { sequence: index + 1 } })
          .replace(`"big":"${row.big}"`, `"big":${row.big}`)
          .replace(`"x":"BIGX"`, `"x":12345678901234567890`)}\n`,
    );
    provider.write(lines.join("") + checkpoint(3));
    await waitForEcho(provider, 3);
    // Durable before the acknowledgement: the object is complete and readable now.
    const [object] = await readObjects(server, bucket, "events/");
    expect(object?.key).toBe("events/00000000000000000001.parquet");
    expect(object?.schema).toEqual({
      id: "int64",
      big: "int64",
      price: "double",
      ok: "bool",
      name: "string",
      tags: "extension<arrow.json>",
      note: "string",
      metadata_sequence: "int64",
    });
    expect(object?.codecs).toEqual(["SNAPPY"]);
    expect(object?.duckdb_count).toBe(3);
    expect(object?.rows).toEqual([
      {
        id: 1,
        big: { int: "9007199254740993" },
        price: 1.25,
        ok: true,
        name: "zürich ☃ 雪",
        tags: '{"a":[1,2],"b":null}',
        note: null,
        metadata_sequence: 1,
      },
      {
        id: 2,
        big: { int: "-9223372036854775808" },
        price: 2,
        ok: false,
        name: "",
        tags: "[]",
        note: "x",
        metadata_sequence: 2,
      },
      {
        id: 3,
        big: { int: "9223372036854775807" },
        price: -0.5,
        ok: null,
        name: "emoji 🎉",
        tags: '{"deep":{"x":12345678901234567890}}',
        note: null,
        metadata_sequence: 3,
      },
    ]);
    provider.end();
    const result = await provider.finish();
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("wrote 1 object(s)");
  }, 60_000);

  test("declared schema: decimals exact, timestamps as UTC microseconds, zstd", async () => {
    const bucket = uniqueBucket("declared");
    await createBucket(server, bucket);
    const provider = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope({
        ...connection(server.endpoint, bucket),
        compression: "zstd",
        schema: {
          amount: "decimal(20,4)",
          small: "decimal(9,2)",
          at: "timestamp",
          label: "string",
        },
      }),
    });
    provider.write(
      '{"data":{"amount":12345678901234.5678,"small":"-12.5","at":"2026-12-04T23:59:59.123456Z","label":"a"},"metadata":{"sequence":7}}\n' +
        '{"data":{"amount":0.0001,"small":3,"at":1733356800000,"label":null},"metadata":{"sequence":8}}\n' +
        '{"data":{"amount":null,"small":null,"at":"2026-01-01T01:00:00+01:00","label":"c"},"metadata":{"sequence":9}}\n',
    );
    provider.end();
    const result = await provider.finish();
    expect(result.exitCode).toBe(0);
    const [object] = await readObjects(server, bucket);
    expect(object?.key).toBe("00000000000000000007.parquet");
    expect(object?.codecs).toEqual(["ZSTD"]);
    expect(object?.schema).toEqual({
      amount: "decimal128(20, 4)",
      small: "decimal128(9, 2)",
      at: "timestamp[us, tz=UTC]",
      label: "string",
    });
    expect(object?.rows).toEqual([
      {
        amount: { decimal: "12345678901234.5678" },
        small: { decimal: "-12.50" },
        at: { timestamp: "2026-12-04T23:59:59.123456+00:00" },
        label: "a",
      },
      {
        amount: { decimal: "0.0001" },
        small: { decimal: "3.00" },
        at: { timestamp: "2024-12-05T00:00:00+00:00" },
        label: null,
      },
      { amount: null, small: null, at: { timestamp: "2026-01-01T00:00:00+00:00" }, label: "c" },
    ]);
  }, 60_000);

  test("rolls by max_rows; names come from the first sequence; a replay overwrites, never duplicates", async () => {
    const bucket = uniqueBucket("roll");
    await createBucket(server, bucket);
    const config = { ...connection(server.endpoint, bucket), prefix: "p/", max_rows: 10 };
    const input = Array.from({ length: 25 }, (_, index) => event(index + 1)).join("");
    for (let run = 0; run < 2; run++) {
      const provider = startProvider(await launcher.command("s3"), {
        role: "output",
        firstLine: envelope(config),
      });
      provider.write(input);
      provider.end();
      expect((await provider.finish()).exitCode).toBe(0);
    }
    const objects = await readObjects(server, bucket, "p/");
    expect(objects.map((object) => object.key)).toEqual([
      "p/00000000000000000001.parquet",
      "p/00000000000000000011.parquet",
      "p/00000000000000000021.parquet",
    ]);
    expect(objects.flatMap((object) => object.rows.map((row) => row.n))).toEqual(
      Array.from({ length: 25 }, (_, index) => index + 1),
    );
  }, 60_000);

  test("jsonl: gzip (default) and zstd objects hold the envelopes as sent", async () => {
    for (const compression of ["gzip", "zstd", "none"] as const) {
      const bucket = uniqueBucket(`jsonl-${compression}`);
      await createBucket(server, bucket);
      const provider = startProvider(await launcher.command("s3"), {
        role: "output",
        firstLine: envelope({
          ...connection(server.endpoint, bucket),
          format: "jsonl",
          max_rows: 2,
          ...(compression === "gzip" ? {} : { compression }),
        }),
      });
      provider.write(event(1, { s: "ü" }) + event(2, { n: 2 }) + checkpoint(2));
      await waitForEcho(provider, 2);
      const objects = await readObjects(server, bucket);
      const extension = { gzip: ".jsonl.gz", zstd: ".jsonl.zst", none: ".jsonl" }[compression];
      expect(objects.map((object) => object.key)).toEqual([`00000000000000000001${extension}`]);
      expect(objects[0]?.rows).toEqual([
        { data: { s: "ü" }, metadata: { provider: "test", sequence: 1 } },
        { data: { n: 2 }, metadata: { provider: "test", sequence: 2 } },
      ]);
      expect(objects[0]?.duckdb_count).toBe(2);
      provider.end();
      expect((await provider.finish()).exitCode).toBe(0);
    }
  }, 60_000);

  test("jsonl gzip past 1 MiB is one gzip member (readers that stop after the first still get every line)", async () => {
    const bucket = uniqueBucket("gzip-member");
    await createBucket(server, bucket);
    const provider = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope({ ...connection(server.endpoint, bucket), format: "jsonl" }),
    });
    const count = 30_000;
    provider.write(
      Array.from({ length: count }, (_, index) => event(index + 1, { pad: "p".repeat(60) })).join(
        "",
      ),
    );
    provider.end();
    expect((await provider.finish()).exitCode).toBe(0);
    const client = new Bun.S3Client({
      endpoint: server.endpoint,
      bucket,
      accessKeyId: adminKeys.access_key_id,
      secretAccessKey: adminKeys.secret_access_key,
    });
    const bytes = new Uint8Array(await client.file("00000000000000000001.jsonl.gz").arrayBuffer());
    // Bun's gunzip reads one member only.
    const text = new TextDecoder().decode(Bun.gunzipSync(bytes));
    expect(text.split("\n").length - 1).toBe(count);
    expect((await readObjects(server, bucket))[0]?.duckdb_count).toBe(count);
  }, 60_000);

  test("a later row with a new field starts a new object with the wider columns", async () => {
    const bucket = uniqueBucket("widen");
    await createBucket(server, bucket);
    const provider = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope({ ...connection(server.endpoint, bucket), row_group_rows: 2 }),
    });
    provider.write(
      event(1, { a: 1 }) + event(2, { a: 2 }) + event(3, { a: 3.5, b: "new" }) + event(4, { a: 4 }),
    );
    provider.end();
    const result = await provider.finish();
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("sequence 3 widens the columns");
    const objects = await readObjects(server, bucket);
    expect(objects.map((object) => [object.key, object.schema])).toEqual([
      ["00000000000000000001.parquet", { a: "int64" }],
      ["00000000000000000003.parquet", { a: "double", b: "string" }],
    ]);
    expect(objects[1]?.rows).toEqual([
      { a: 3.5, b: "new" },
      { a: 4, b: null },
    ]);
  }, 60_000);

  test("a type that cannot widen is one line naming the field and the sequence", async () => {
    const bucket = uniqueBucket("clash");
    await createBucket(server, bucket);
    const provider = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope(connection(server.endpoint, bucket)),
    });
    provider.write(event(1, { a: 1 }) + event(2, { a: "two" }));
    provider.end();
    const result = await provider.finish();
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      'error: s3: field "a" at sequence 2 is string, but earlier rows made it int64 (declare it in a schema block as json or string, or fix the data)',
    );
  }, 60_000);

  test("partition = event_time: rows go under dt=<UTC day> folders after the prefix", async () => {
    const bucket = uniqueBucket("dt");
    await createBucket(server, bucket);
    const provider = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope({
        ...connection(server.endpoint, bucket),
        prefix: "events/",
        partition: "event_time",
        time_field: "at",
      }),
    });
    provider.write(
      event(1, { at: "2026-12-04T23:59:59Z" }) +
        event(2, { at: "2026-12-05T00:00:00Z" }) +
        event(3, { at: 1_796_515_200_000 }),
    );
    provider.end();
    expect((await provider.finish()).exitCode).toBe(0);
    const objects = await readObjects(server, bucket, "events/");
    expect(objects.map((object) => object.key)).toEqual([
      "events/dt=2026-12-04/00000000000000000001.parquet",
      "events/dt=2026-12-05/00000000000000000002.parquet",
      "events/dt=2026-12-06/00000000000000000003.parquet",
    ]);
  }, 60_000);

  test("errors: missing bucket, access denied, unreachable endpoint: one line, no secret", async () => {
    const missing = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope(connection(server.endpoint, uniqueBucket("missing"))),
    });
    missing.write(event(1));
    missing.end();
    const noBucket = await missing.finish();
    expect(noBucket.exitCode).toBe(1);
    expect(noBucket.stderr).toMatch(/^error: s3: .*the bucket does not exist.*\n$/);

    const bucket = uniqueBucket("denied");
    await createBucket(server, bucket);
    const denied = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope({ bucket, endpoint: server.endpoint, ...reader }),
    });
    denied.write(event(1));
    denied.end();
    const refused = await denied.finish();
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^error: s3: .*access denied .*\n$/);
    expect(refused.stderr).not.toContain(reader.secret_access_key);

    const nowhere = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope({
        bucket,
        endpoint: "http://127.0.0.1:9",
        access_key_id: "k",
        secret_access_key: "s3cr3t-value",
      }),
    });
    nowhere.write(event(1));
    nowhere.end();
    const unreachable = await nowhere.finish(40_000);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^error: s3: .*endpoint unreachable.*\n$/);
    expect(unreachable.stderr).not.toContain("s3cr3t-value");
  }, 90_000);
});

describe("s3 lifecycle (compiled binary)", () => {
  const lifecycle = async (command: string, config: Record<string, unknown>) => {
    const launcher = launchers.find((each) => each.label === "compiled binary");
    if (!launcher) throw new Error("no compiled-binary launcher");
    const provider = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: JSON.stringify({ command, config }),
    });
    provider.end();
    const result = await provider.finish();
    const outcome = JSON.parse(result.stdout.trim()) as { status: string; message: string };
    expect(result.exitCode).toBe(outcome.status === "Success" ? 0 : 1);
    return outcome;
  };

  test("plan shows where objects land; init creates a missing bucket, then finds it writable", async () => {
    const bucket = uniqueBucket("init");
    const config = {
      bucket,
      endpoint: server.endpoint,
      ...adminKeys,
      prefix: "events/",
      partition: "write_time",
    };
    const day = new Date().toISOString().slice(0, 10);
    expect(await lifecycle("plan", config)).toEqual({
      status: "Success",
      message: `init would create bucket ${bucket}; objects land at s3://${bucket}/events/dt=${day}/00000000000000000001.parquet (named by each object's first sequence; a new object every 1000000 rows, 134217728 bytes or 1m)`,
      resources: [{ type: "s3_bucket", name: bucket, exists: false }],
    } as never);
    expect((await lifecycle("init", config)).message).toBe(
      `created bucket ${bucket} takes writes under "events/"`,
    );
    expect((await lifecycle("init", config)).message).toBe(
      `bucket ${bucket} exists and takes writes under "events/"`,
    );
    // The probe object is gone again.
    expect(await readObjects(server, bucket)).toEqual([]);
    const denied = await lifecycle("init", { bucket, endpoint: server.endpoint, ...reader });
    expect(denied.status).toBe("Failed");
    expect(denied.message).toMatch(/^s3: writing \.dstream-init-probe in bucket .* access denied/);
    expect(denied.message).not.toContain(reader.secret_access_key);
  }, 60_000);
});
