// s3 output into SeaweedFS (test/services/s3.sh): rows/s from 1,000,000 JSONL events to Parquet
// objects, beside pyarrow converting the same rows to Parquet (the encode) and a plain multipart
// upload of the same bytes with Bun's S3Client (the upload); the same with a checkpoint every
// 1,000 events (an object per acknowledgement); JSONL gzip; peak RSS while writing 1 GB.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { machineLine } from "./timing.ts";

const ROWS = Number(process.env.BENCH_S3_ROWS ?? 1_000_000);
const GIGABYTE = Number(process.env.BENCH_S3_BYTES ?? 1024 ** 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const repoRoot = resolve(import.meta.dir, "../..");
const keys = { access_key_id: "admin", secret_access_key: "admin-secret" };

function row(n: number): string {
  return `{"id":${n},"name":"user-${n % 1000}","email":"user${n}@example.com","amount":${(n % 10_000) / 100},"ok":${n % 2 === 0},"at":"2026-12-04T12:00:00Z","tags":{"k":${n % 7}}}`;
}

async function script(name: string): Promise<string> {
  const child = Bun.spawn(["bash", join(repoRoot, "test/services", name)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error(`test/services/${name} failed`);
  return out.trim().split("\n").at(-1) ?? "";
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Runs a command with stdin from a file; wall time and the peak RSS sampled from /proc. */
async function measure(command: string[], stdinPath: string, env: Record<string, string>) {
  const started = performance.now();
  const child = Bun.spawn(command, {
    stdin: Bun.file(stdinPath),
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  let peak = 0;
  const sampler = setInterval(async () => {
    try {
      const status = await Bun.file(`/proc/${child.pid}/status`).text();
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {}
  }, 50);
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  clearInterval(sampler);
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}: ${stderr.trim()}`);
  return { ms: performance.now() - started, peak, stderr };
}

export default async function s3Bench(): Promise<string> {
  const endpoint = await script("s3.sh");
  const python = await script("python-readers.sh");
  const binary = await buildBenchBinary();
  const folder = mkdtempSync(join(tmpdir(), "dstream-bench-s3-"));
  const client = new Bun.S3Client({
    endpoint,
    accessKeyId: keys.access_key_id,
    secretAccessKey: keys.secret_access_key,
    region: "us-east-1",
  });
  try {
    // The buckets, created with pyarrow (admin keys).
    const bucket = `bench-${Date.now().toString(36)}`;
    const create = Bun.spawn([
      python,
      "-c",
      `import pyarrow.fs as f; s3 = f.S3FileSystem(endpoint_override="${endpoint.split("://")[1]}", scheme="http", access_key="admin", secret_key="admin-secret", allow_bucket_creation=True); s3.create_dir("${bucket}")`,
    ]);
    if ((await create.exited) !== 0) throw new Error("cannot create the bench bucket");

    const dataPath = join(folder, "rows.jsonl");
    const envelopePath = (name: string, config: Record<string, unknown>, checkpoints: boolean) => {
      const path = join(folder, `${name}.in`);
      const writer = Bun.file(path).writer();
      writer.write(
        `${JSON.stringify({ command: "run", protocol: 2, checkpoint: null, config: { bucket, endpoint, ...keys, ...config } })}\n`,
      );
      for (let n = 1; n <= ROWS; n++) {
        writer.write(`{"data":${row(n)},"metadata":{"sequence":${n}}}\n`);
        if (checkpoints && n % 1000 === 0) writer.write(`{"checkpoint":{"value":${n}}}\n`);
      }
      return Promise.resolve(writer.end()).then(() => path);
    };
    {
      const writer = Bun.file(dataPath).writer();
      for (let n = 1; n <= ROWS; n++) writer.write(`${row(n)}\n`);
      await writer.end();
    }
    const plain = await envelopePath("parquet", { prefix: "plain/" }, false);
    const acked = await envelopePath("acked", { prefix: "acked/" }, true);
    const jsonl = await envelopePath("jsonl", { prefix: "jsonl/", format: "jsonl" }, false);
    const env = { DSTREAM_ROLE: "output", DSTREAM_TASK: "bench" };
    const command = [binary.path, "__provider", "s3"];

    // pyarrow: read the same rows (data only) and write snappy Parquet, timed inside Python.
    const pyarrowSource = `
import sys, time, pyarrow.json as pj, pyarrow.parquet as pq
t = time.perf_counter(); table = pj.read_json(sys.argv[1]); pq.write_table(table, sys.argv[2], compression="snappy", row_group_size=50000)
print((time.perf_counter() - t) * 1000)`;
    const parquetPath = join(folder, "pyarrow.parquet");

    const dstreamMs: number[] = [];
    const ackedMs: number[] = [];
    const jsonlMs: number[] = [];
    const pyarrowMs: number[] = [];
    const uploadMs: number[] = [];
    let objectBytes = 0;
    for (let run = 0; run < RUNS; run++) {
      dstreamMs.push((await measure(command, plain, env)).ms);
      ackedMs.push((await measure(command, acked, env)).ms);
      jsonlMs.push((await measure(command, jsonl, env)).ms);
      const py = Bun.spawn([python, "-c", pyarrowSource, dataPath, parquetPath], {
        stdout: "pipe",
      });
      pyarrowMs.push(Number((await new Response(py.stdout).text()).trim()));
      if ((await py.exited) !== 0) throw new Error("pyarrow conversion failed");
      // The plain upload: the Parquet bytes dstream wrote, read back and sent again in one multipart upload.
      const listing = await client.list({ prefix: "plain/" }, { bucket });
      const parts: Uint8Array[] = [];
      for (const item of listing.contents ?? [])
        parts.push(new Uint8Array(await client.file(item.key, { bucket }).arrayBuffer()));
      objectBytes = parts.reduce((sum, part) => sum + part.length, 0);
      const started = performance.now();
      const sink = client
        .file("upload/copy.parquet", { bucket })
        .writer({ partSize: 8 * 1024 * 1024, queueSize: 2 });
      for (const part of parts) {
        sink.write(part);
        await sink.flush();
      }
      await sink.end();
      uploadMs.push(performance.now() - started);
    }
    const acks = await client.list({ prefix: "acked/" }, { bucket });
    const ackedObjects = acks.keyCount ?? acks.contents?.length ?? 0;

    // Peak RSS while 1 GB of events streams in with the default roll settings.
    const bigPath = join(folder, "big.in");
    {
      const writer = Bun.file(bigPath).writer();
      writer.write(
        `${JSON.stringify({ command: "run", protocol: 2, checkpoint: null, config: { bucket, endpoint, ...keys, prefix: "big/" } })}\n`,
      );
      let bytes = 0;
      for (let n = 1; bytes < GIGABYTE; n++) {
        const line = `{"data":${row(n)},"metadata":{"sequence":${n}}}\n`;
        bytes += line.length;
        writer.write(line);
      }
      await writer.end();
    }
    const big = await measure(command, bigPath, env);
    const bigBytes = statSync(bigPath).size;
    const bigListing = await client.list({ prefix: "big/" }, { bucket });

    const rate = (ms: number) => Math.round(ROWS / (ms / 1000)).toLocaleString("en-US");
    const dstream = median(dstreamMs);
    const pyarrow = median(pyarrowMs);
    const upload = median(uploadMs);
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
    writeFileSync(join(folder, "done"), "");
    return `## s3 output

${machineLine()} SeaweedFS S3 gateway on 127.0.0.1 (test/services/s3.sh). ${ROWS.toLocaleString("en-US")}
events of 7 fields (ints, a double, a boolean, strings, a nested object), JSONL in, medians of
${RUNS} runs; pyarrow ${"26.0.1"} timed inside Python (no process start), dstream as a process.

| What | Time | Rows/s | Ratio |
| --- | ---: | ---: | ---: |
| pyarrow: read_json + write_table (snappy), same rows | ${pyarrow.toFixed(0)} ms | ${rate(pyarrow)} | 1.00 (baseline) |
| plain multipart upload of the same Parquet bytes (${mib(objectBytes)}), Bun S3Client | ${upload.toFixed(0)} ms | | ${(upload / dstream).toFixed(2)} of dstream's time |
| dstream s3 output, parquet, no checkpoints (objects by max_bytes) | ${dstream.toFixed(0)} ms | ${rate(dstream)} | ${(pyarrow / dstream).toFixed(2)} of pyarrow's speed |
| dstream s3 output, parquet, a checkpoint every 1,000 events (${ackedObjects} objects) | ${median(ackedMs).toFixed(0)} ms | ${rate(median(ackedMs))} | ${(pyarrow / median(ackedMs)).toFixed(2)} |
| dstream s3 output, jsonl gzip | ${median(jsonlMs).toFixed(0)} ms | ${rate(median(jsonlMs))} | ${(pyarrow / median(jsonlMs)).toFixed(2)} |

Encode vs upload: of dstream's ${dstream.toFixed(0)} ms, the same bytes uploaded alone take
${upload.toFixed(0)} ms (${((upload / dstream) * 100).toFixed(0)}%); the rest is parsing, converting and
encoding, against pyarrow's native ${pyarrow.toFixed(0)} ms for the same conversion.

Peak RSS while writing ${mib(bigBytes)} of events with the default roll settings
(${bigListing.contents?.length ?? 0} objects): **${mib(big.peak)}**, in ${(big.ms / 1000).toFixed(1)} s.
`;
  } finally {
    rmSync(folder, { recursive: true, force: true });
    binary.remove();
  }
}
