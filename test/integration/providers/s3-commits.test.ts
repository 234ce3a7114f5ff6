// s3 output commits under `dstream run` (compiled binary, protocol v2) against SeaweedFS: objects
// roll by max_age, not per acknowledgement, and the committed checkpoint moves only as objects
// complete; kill -9 then a restart with max_rows rolling: every row, none twice.
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
const running: Bun.Subprocess[] = [];
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-s3-commits-"));
});
afterEach(() => {
  for (const run of running.splice(0))
    if (run.exitCode === null && run.signalCode === null) process.kill(-run.pid, "SIGKILL");
  rmSync(folder, { recursive: true, force: true });
});

const keys = { AWS_ACCESS_KEY_ID: "dstream", AWS_SECRET_ACCESS_KEY: "dstream-secret" };

function writeConfig(bucket: string, counter: string, output: string): string {
  const path = join(folder, "dstream.hcl");
  writeFileSync(
    path,
    `task "counter-to-s3" {
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
      prefix = "events/"
      endpoint = "${server.endpoint}"
      ${output}
    }
  }
}
`,
  );
  return path;
}

/** Starts `dstream run` in its own process group, so kill -9 takes its providers with it. */
async function startRun(config: string) {
  const run = Bun.spawn([await dstreamBinary(), "run", "counter-to-s3", "-c", config], {
    cwd: folder,
    env: { ...baseEnv(), ...keys },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  running.push(run);
  return run;
}

/** The committed counter value in the task's state file, or 0 before the first commit. */
async function committed(): Promise<number> {
  const file = Bun.file(join(folder, ".dstream", "counter-to-s3.checkpoint.json"));
  if (!(await file.exists())) return 0;
  try {
    return (JSON.parse(await file.text()) as { checkpoint: { value: number } }).checkpoint.value;
  } catch {
    return 0; // replaced while read: the next look sees it
  }
}

async function rowsByObject(bucket: string): Promise<{ key: string; values: number[] }[]> {
  const objects = await readObjects(server, bucket, "events/");
  for (const object of objects) expect(object.duckdb_count).toBe(object.rows.length);
  return objects.map((object) => ({
    key: object.key,
    values: object.rows.map((row) => row.value as number),
  }));
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

test('~100 events/s with max_age = "2s": objects of ~2 s of rows; the commit moves only as objects complete', async () => {
  const bucket = uniqueBucket("commits-age");
  await createBucket(server, bucket);
  const config = writeConfig(bucket, "interval = 10\n      maxCount = 0", 'max_age = "2s"');
  const run = await startRun(config);
  const seen: number[] = [];
  const runForMs = 7000;
  const deadline = Date.now() + runForMs;
  while (Date.now() < deadline) {
    const value = await committed();
    if (value !== seen.at(-1)) seen.push(value);
    if (run.exitCode !== null) throw new Error(await new Response(run.stderr).text());
    await Bun.sleep(20);
  }
  run.kill("SIGTERM");
  expect(await run.exited).toBe(0);
  const final = await committed();

  const objects = await rowsByObject(bucket);
  const all = objects.flatMap((object) => object.values);
  expect(all).toEqual(range(1, final));
  // One object per ~2 s, not one per 100 ms acknowledgement (that would be ~70 of ~10 rows).
  expect(objects.length).toBeGreaterThanOrEqual(3);
  expect(objects.length).toBeLessThanOrEqual(Math.ceil(runForMs / 2000) + 2);
  for (const object of objects.slice(0, -1)) expect(object.values.length).toBeGreaterThan(80);

  // Each commit seen during the run is at most the last row of an object complete by then, and
  // close to it (the counter writes a checkpoint every 100 ms); so commits move once per object.
  const committedDuringRun = seen.filter((value) => value > 0);
  expect(committedDuringRun.length).toBeGreaterThanOrEqual(2);
  expect(committedDuringRun.length).toBeLessThanOrEqual(objects.length);
  const ends = objects.map((object) => object.values.at(-1) as number);
  for (const value of committedDuringRun) {
    const end = ends.find((last) => last >= value) as number;
    expect(end - value).toBeLessThan(40);
  }
  // dstream state show tells the same: the last checkpoint, acknowledged after the last object.
  const shown = await runDstream(["state", "show", "counter-to-s3", "-c", config], {
    cwd: folder,
    timeoutMs: 20_000,
  });
  expect(shown.exitCode).toBe(0);
  expect((JSON.parse(shown.stdout) as { checkpoint: { value: number } }).checkpoint.value).toBe(
    ends.at(-1) as number,
  );
}, 90_000);

test("kill -9, then a restart, with max_rows rolling: every row present, none twice, same keys", async () => {
  const bucket = uniqueBucket("commits-kill");
  await createBucket(server, bucket);
  // A checkpoint after every event (150 ms apart, the counter's checkpoint timer is 100 ms): each
  // object's last row has one, so the commit lands on object ends.
  const total = 32;
  const config = writeConfig(
    bucket,
    `interval = 150\n      maxCount = ${total}`,
    'max_rows = 4\n      max_age = "1h"',
  );
  const first = await startRun(config);
  const deadline = Date.now() + 30_000;
  while ((await committed()) < 8) {
    if (Date.now() > deadline || first.exitCode !== null)
      throw new Error(`no commit of 8 rows: ${await new Response(first.stderr).text()}`);
    await Bun.sleep(20);
  }
  await Bun.sleep(250); // mid-object: rows 9.. are open, not complete
  process.kill(-first.pid, "SIGKILL");
  await first.exited;
  const atKill = await committed();
  expect(atKill).toBeLessThan(total);
  expect(atKill % 4).toBe(0);
  const before = (await rowsByObject(bucket)).flatMap((object) => object.values);
  for (const value of range(1, atKill)) expect(before).toContain(value);

  const second = await startRun(config);
  expect(await second.exited).toBe(0);
  const objects = await rowsByObject(bucket);
  expect(objects.flatMap((object) => object.values)).toEqual(range(1, total));
  expect(objects.map((object) => object.key)).toEqual(
    range(0, total / 4 - 1).map(
      (index) => `events/${String(index * 4 + 1).padStart(20, "0")}.parquet`,
    ),
  );
  expect(await committed()).toBe(total);
}, 120_000);
