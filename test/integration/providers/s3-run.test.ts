// s3 output under `dstream run` (the compiled binary, protocol v2 end to end) against SeaweedFS:
// the seed's config as written, kill -9 then restart (every row), SIGTERM then restart (each once).
import { afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseEnv, dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { createBucket, readObjects, type S3Server, s3Server, uniqueBucket } from "./s3-helpers.ts";

let server: S3Server;
beforeAll(async () => {
  server = await s3Server();
  await dstreamBinary();
}, 1_200_000);

let folder = "";
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-s3-run-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const keys = { AWS_ACCESS_KEY_ID: "dstream", AWS_SECRET_ACCESS_KEY: "dstream-secret" };

function writeConfig(bucket: string, counter: string, extra = ""): string {
  const path = join(folder, "dstream.hcl");
  writeFileSync(
    path,
    `task "api-to-s3" {
  type = "providers"
  input {
    provider = "counter"
    config {
      ${counter}
    }
  }
  output {
    provider = "s3"
    config {
      bucket = "${bucket}"
      prefix = "events/{{ date \\"2006-01-02\\" }}/"
      format = "parquet"
      endpoint = "${server.endpoint}"
      ${extra}
    }
  }
}
`,
  );
  return path;
}

const localDay = () => {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
};

async function values(bucket: string): Promise<number[]> {
  const objects = await readObjects(server, bucket, "events/");
  for (const object of objects) expect(object.duckdb_count).toBe(object.rows.length);
  return objects.flatMap((object) => object.rows.map((row) => row.value as number));
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

/** Starts `dstream run` in its own process group, so kill -9 takes its providers with it. */
async function startRun(config: string) {
  return Bun.spawn([await dstreamBinary(), "run", "api-to-s3", "-c", config], {
    cwd: folder,
    env: { ...baseEnv(), ...keys },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
}

async function waitForCommit(run: Bun.Subprocess<"ignore", "pipe", "pipe">, seconds: number) {
  const file = Bun.file(join(folder, ".dstream", "api-to-s3.checkpoint.json"));
  const deadline = Date.now() + seconds * 1000;
  while (!(await file.exists())) {
    if (Date.now() > deadline || run.exitCode !== null) {
      run.kill("SIGKILL");
      throw new Error(`no checkpoint committed: ${await new Response(run.stderr).text()}`);
    }
    await Bun.sleep(20);
  }
}

test("the seed's form as written: bucket, templated prefix, format = parquet", async () => {
  const bucket = uniqueBucket("seed");
  await createBucket(server, bucket);
  const config = writeConfig(bucket, "interval = 0\n      maxCount = 2500");
  const result = await runDstream(["run", "api-to-s3", "-c", config], {
    cwd: folder,
    env: keys,
    timeoutMs: 60_000,
  });
  expect(result.stderr).toContain("wrote");
  expect(result.exitCode).toBe(0);
  const objects = await readObjects(server, bucket, "events/");
  expect(objects.length).toBeGreaterThan(0);
  for (const object of objects) expect(object.key.startsWith(`events/${localDay()}/`)).toBe(true);
  expect(objects[0]?.schema).toEqual({ value: "int64", timestamp: "string" });
  expect(await values(bucket)).toEqual(range(2500));
}, 90_000);

test("kill -9 mid-stream, then a restart: every row is there", async () => {
  const bucket = uniqueBucket("kill");
  await createBucket(server, bucket);
  // Objects roll by rows, so checkpoints are committed while the stream runs (not only at its end).
  const config = writeConfig(bucket, "interval = 1\n      maxCount = 3000", "max_rows = 500");
  const first = await startRun(config);
  await waitForCommit(first, 30);
  await Bun.sleep(300);
  process.kill(-first.pid, "SIGKILL");
  await first.exited;
  const committed = JSON.parse(
    await Bun.file(join(folder, ".dstream", "api-to-s3.checkpoint.json")).text(),
  ) as { checkpoint: { value: number } };
  expect(committed.checkpoint.value).toBeLessThan(3000);
  // Every committed row is in a complete object already.
  const before = new Set(await values(bucket));
  for (const value of range(committed.checkpoint.value)) expect(before.has(value)).toBe(true);

  const second = await startRun(config);
  expect(await second.exited).toBe(0);
  const all = await values(bucket);
  expect([...new Set(all)].sort((a, b) => a - b)).toEqual(range(3000));
}, 120_000);

test("a clean stop (SIGTERM), then a restart: no row twice", async () => {
  const bucket = uniqueBucket("stop");
  await createBucket(server, bucket);
  // Objects roll by rows, so checkpoints are committed while the stream runs (not only at its end).
  const config = writeConfig(bucket, "interval = 1\n      maxCount = 3000", "max_rows = 500");
  const first = await startRun(config);
  await waitForCommit(first, 30);
  await Bun.sleep(300);
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);
  const second = await startRun(config);
  expect(await second.exited).toBe(0);
  const all = await values(bucket);
  expect(all.length).toBe(3000);
  expect([...all].sort((a, b) => a - b)).toEqual(range(3000));
}, 120_000);
