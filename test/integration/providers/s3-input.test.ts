// s3 input as a real process (from source and the compiled binary) against SeaweedFS: objects
// written by pyarrow and Python's gzip (not by us) come out as events in key order, with the last
// key read as the checkpoint; resume after it; follow new keys; lake -> file under dstream run.
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { launchers, startProvider } from "./helpers.ts";
import { adminKeys, createBucket, type S3Server, s3Server, uniqueBucket } from "./s3-helpers.ts";

let server: S3Server;
beforeAll(async () => {
  server = await s3Server();
  await dstreamBinary();
}, 1_200_000);

let folder = "";
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-s3-input-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

// Objects written by pyarrow (Parquet, zstd) and Python's gzip module, with the admin keys.
const writerSource = `
import sys, gzip, json, datetime, decimal
import pyarrow as pa, pyarrow.parquet as pq, pyarrow.fs as pfs
endpoint, bucket, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = pfs.S3FileSystem(endpoint_override=endpoint.split("://", 1)[1], scheme="http", access_key="admin",
                      secret_key="admin-secret", region="us-east-1")
table = pa.table({
    "id": pa.array([1, 9007199254740993], pa.int64()),
    "name": pa.array(["zürich ☃", None], pa.string()),
    "at": pa.array([datetime.datetime(2026, 12, 4, 23, 59, 59, 123456), None], pa.timestamp("us", tz="UTC")),
    "price": pa.array([decimal.Decimal("12.50"), decimal.Decimal("-0.01")], pa.decimal128(9, 2)),
    "ok": pa.array([True, False]),
    "tags": pa.array([["a", "b"], []], pa.list_(pa.string())),
    "point": pa.array([{"x": 1.5, "y": -2.0}, None], pa.struct([("x", pa.float64()), ("y", pa.float64())])),
})
with s3.open_output_stream(bucket + "/" + prefix + "a.parquet") as out:
    pq.write_table(table, out, compression="zstd")
with s3.open_output_stream(bucket + "/" + prefix + "b.jsonl.gz", compression=None) as out:
    out.write(gzip.compress(b'{"n":1}\\n' + b'"text"\\n' + b'\\n' + b'{"n":3,"nested":{"k":[1,2]}}\\n'))
with s3.open_output_stream(bucket + "/" + prefix + "c.txt", compression=None) as out:
    out.write(b"not read\\n")
with s3.open_output_stream(bucket + "/" + prefix + "d.jsonl", compression=None) as out:
    out.write(b'{"last":true}\\n')
`;

async function writeObjects(bucket: string, prefix: string): Promise<void> {
  const child = Bun.spawn([server.python, "-c", writerSource, server.endpoint, bucket, prefix], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`pyarrow writer failed: ${stderr.trim().split("\n").at(-1)}`);
}

const envelope = (config: Record<string, unknown>, checkpoint: unknown = null) =>
  JSON.stringify({ command: "run", config, protocol: 2, checkpoint });

const lines = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const config = (bucket: string, extra: Record<string, unknown> = {}) => ({
  bucket,
  endpoint: server.endpoint,
  ...adminKeys,
  prefix: "lake/",
  ...extra,
});

const meta = (bucket: string, key: string, row: number) => ({
  provider: "s3",
  bucket,
  key: `lake/${key}`,
  row,
});

describe.each(launchers)("s3 input ($label)", (launcher) => {
  test("Parquet by pyarrow and gzip JSONL by Python: rows as events in key order, the last key read as checkpoint", async () => {
    const bucket = uniqueBucket("input");
    await createBucket(server, bucket);
    await writeObjects(bucket, "lake/");
    const provider = startProvider(await launcher.command("s3"), {
      role: "input",
      firstLine: envelope(config(bucket)),
    });
    provider.end();
    const result = await provider.finish();
    expect(result.exitCode).toBe(0);
    // Big ints keep their digits in the JSON text.
    expect(result.stdout).toContain('"id":9007199254740993');
    const all = lines(result.stdout.replace('"id":9007199254740993', '"id":"9007199254740993"'));
    // Checkpoint lines come at the SDK's cadence; the last one is the last key, after every row.
    expect(all.at(-1)).toEqual({ checkpoint: { key: "lake/d.jsonl" } });
    const events = all.filter((line) => !("checkpoint" in line));
    expect(events).toEqual([
      {
        data: {
          id: 1,
          name: "zürich ☃",
          at: "2026-12-04T23:59:59.123456Z",
          price: 12.5,
          ok: true,
          tags: ["a", "b"],
          point: { x: 1.5, y: -2 },
        },
        metadata: meta(bucket, "a.parquet", 1),
      },
      {
        data: {
          id: "9007199254740993",
          name: null,
          at: null,
          price: -0.01,
          ok: false,
          tags: [],
          point: null,
        },
        metadata: meta(bucket, "a.parquet", 2),
      },
      { data: { n: 1 }, metadata: meta(bucket, "b.jsonl.gz", 1) },
      { data: "text", metadata: meta(bucket, "b.jsonl.gz", 2) },
      { data: { n: 3, nested: { k: [1, 2] } }, metadata: meta(bucket, "b.jsonl.gz", 3) },
      { data: { last: true }, metadata: meta(bucket, "d.jsonl", 1) },
    ]);
    expect(result.stdout).toContain('"price":12.50,');
  }, 60_000);

  test("resumes after the checkpoint's key; a checkpoint of another shape is one line", async () => {
    const bucket = uniqueBucket("resume");
    await createBucket(server, bucket);
    await writeObjects(bucket, "lake/");
    const provider = startProvider(await launcher.command("s3"), {
      role: "input",
      firstLine: envelope(config(bucket), { key: "lake/b.jsonl.gz" }),
    });
    provider.end();
    const result = await provider.finish();
    expect(result.exitCode).toBe(0);
    expect(lines(result.stdout)).toEqual([
      { data: { last: true }, metadata: meta(bucket, "d.jsonl", 1) },
      { checkpoint: { key: "lake/d.jsonl" } },
    ]);

    const wrong = startProvider(await launcher.command("s3"), {
      role: "input",
      firstLine: envelope(config(bucket), { value: 3 }),
    });
    wrong.end();
    const refused = await wrong.finish();
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.trim()).toBe(
      'error: s3: checkpoint {"value":3} is not an s3 position ({"key": "..."}); reset it with dstream state reset',
    );
  }, 60_000);

  test("round trip: what the s3 output wrote (snappy Parquet) comes back as the same data", async () => {
    const bucket = uniqueBucket("roundtrip");
    await createBucket(server, bucket);
    const data = [
      { id: 1, name: "ü", price: 1.25, ok: true, nested: { a: [1, 2] } },
      { id: 2, name: null, price: 2, ok: false, nested: null },
    ];
    const writer = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope({ bucket, endpoint: server.endpoint, ...adminKeys, prefix: "lake/" }),
    });
    writer.write(
      data
        .map(
          (row, index) => `${JSON.stringify({ data: row, metadata: { sequence: index + 1 } })}\n`,
        )
        .join(""),
    );
    writer.end();
    expect((await writer.finish()).exitCode).toBe(0);
    const reader = startProvider(await launcher.command("s3"), {
      role: "input",
      firstLine: envelope(config(bucket)),
    });
    reader.end();
    const result = await reader.finish();
    expect(result.exitCode).toBe(0);
    const rows = lines(result.stdout).filter((line) => "data" in line);
    expect(rows.map((row) => row.data)).toEqual(data);
  }, 60_000);

  test("follow: a key that appears later is read; SIGTERM ends it cleanly", async () => {
    const bucket = uniqueBucket("follow");
    await createBucket(server, bucket);
    const provider = startProvider(await launcher.command("s3"), {
      role: "input",
      firstLine: envelope(config(bucket, { follow: true, poll_interval: "200ms" })),
    });
    await provider.waitForLines(1);
    await writeObjects(bucket, "lake/");
    // Six rows (checkpoint lines come between them: lines alone do not say the rows are out).
    const deadline = Date.now() + 20_000;
    const rowsOut = () => {
      const whole = provider.stdout.slice(0, provider.stdout.lastIndexOf("\n") + 1);
      return whole.split("\n").filter((line) => line.startsWith('{"data"')).length;
    };
    while (rowsOut() < 6) {
      if (Date.now() > deadline) throw new Error(`six rows expected, got:\n${provider.stdout}`);
      await Bun.sleep(10);
    }
    provider.child.kill("SIGTERM");
    const result = await provider.finish();
    expect(result.exitCode).toBe(0);
    const all = lines(result.stdout);
    expect(all.filter((line) => "data" in line).length).toBe(6);
    // The stop may come between d's row and its checkpoint: then the position stays at c.txt and a
    // restart reads d again (at least once), never past a key whose rows did not all go out.
    expect(["lake/c.txt", "lake/d.jsonl"]).toContain(
      (all.at(-1) as { checkpoint: { key: string } }).checkpoint.key,
    );
  }, 60_000);
});

test("lake -> file under dstream run: every row once, and a second run reads nothing again", async () => {
  const bucket = uniqueBucket("lake");
  await createBucket(server, bucket);
  await writeObjects(bucket, "lake/");
  const out = join(folder, "out.jsonl");
  const path = join(folder, "dstream.hcl");
  writeFileSync(
    path,
    `task "lake-to-file" {
  type = "providers"
  input {
    provider = "s3"
    config {
      bucket = "${bucket}"
      prefix = "lake/"
      endpoint = "${server.endpoint}"
    }
  }
  output {
    provider = "file"
    config {
      path = "${out}"
    }
  }
}
`,
  );
  const env = { AWS_ACCESS_KEY_ID: "admin", AWS_SECRET_ACCESS_KEY: "admin-secret" };
  const first = await runDstream(["run", "lake-to-file", "-c", path], { cwd: folder, env });
  expect(first.stderr).not.toContain("error");
  expect(first.exitCode).toBe(0);
  const read = () => readFileSync(out, "utf8").trim().split("\n");
  expect(read().length).toBe(6);
  const second = await runDstream(["run", "lake-to-file", "-c", path], { cwd: folder, env });
  expect(second.exitCode).toBe(0);
  expect(read().length).toBe(6);
}, 90_000);
