// postgres-cdc -> file through `dstream run` (compiled binary, protocol v2 state) against the real
// PostgreSQL, with a live workload: kill -9 mid-stream then a restart delivers every change at least
// once; a clean stop then a restart delivers every change exactly once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseEnv, dstreamBinary } from "../../helpers/binary.ts";
import {
  type CdcDatabase,
  cdcDatabase,
  confirmedFlush,
  dropCdcDatabases,
} from "./postgres-cdc-helpers.ts";
import { psql, startPostgres } from "./postgres-helpers.ts";

const folders: string[] = [];
beforeAll(async () => {
  startPostgres();
  await dstreamBinary();
}, 600_000);
afterAll(async () => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  await dropCdcDatabases();
}, 120_000);

const SNAPSHOT_ROWS = 5000;
const STREAM_TRANSACTIONS = 300;
const ROWS_PER_TRANSACTION = 10;
const TOTAL = SNAPSHOT_ROWS + STREAM_TRANSACTIONS * ROWS_PER_TRANSACTION;

function taskFolder(db: CdcDatabase): { folder: string; output: string } {
  const folder = mkdtempSync(join(tmpdir(), "dstream-cdc-run-"));
  folders.push(folder);
  const output = join(folder, "changes.jsonl");
  writeFileSync(
    join(folder, "dstream.hcl"),
    `task "t" {
  input {
    provider = "postgres-cdc"
    config {
      connection_string = "${db.url}"
      tables            = ["orders"]
      slot              = "${db.slot}"
      publication       = "${db.publication}"
    }
  }
  output {
    provider = "file"
    config { path = "${output}" }
  }
}
`,
  );
  return { folder, output };
}

interface Written {
  id: number;
  sequence: number;
}

function written(path: string): Written[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const event = JSON.parse(line) as { data: { id: number }; metadata: { sequence: number } };
      return { id: event.data.id, sequence: event.metadata.sequence };
    });
}

async function prepare(label: string): Promise<CdcDatabase> {
  const db = await cdcDatabase(label);
  await psql(
    db.url,
    `CREATE TABLE orders (id int PRIMARY KEY, amount numeric, note text);
     INSERT INTO orders SELECT i, i * 1.5, 'row ' || i FROM generate_series(1, ${SNAPSHOT_ROWS}) i;`,
  );
  return db;
}

/** Transactions of inserts, each committed on its own, about 100 a second, in the background. */
function workload(db: CdcDatabase): Promise<string> {
  return psql(
    db.url,
    `DO $$ BEGIN
       FOR t IN 0..${STREAM_TRANSACTIONS - 1} LOOP
         INSERT INTO orders SELECT 100000 + t * ${ROWS_PER_TRANSACTION} + i, i, 'stream'
           FROM generate_series(1, ${ROWS_PER_TRANSACTION}) i;
         COMMIT;
         PERFORM pg_sleep(0.01);
       END LOOP;
     END $$;`,
  );
}

const allIds = (): number[] => [
  ...Array.from({ length: SNAPSHOT_ROWS }, (_, index) => index + 1),
  ...Array.from(
    { length: STREAM_TRANSACTIONS * ROWS_PER_TRANSACTION },
    (_, index) => 100001 + index,
  ),
];

/**
 * Starts `dstream run`, runs `whenStreaming` once the snapshot is written, waits until `progress()`
 * reaches `target` (and at least 2 s, so the run is past its start), then sends `signal`.
 */
async function runUntil(
  folder: string,
  progress: () => number,
  target: number,
  signal: "SIGKILL" | "SIGTERM",
  whenStreaming?: () => void,
) {
  const child = Bun.spawn(
    [await dstreamBinary(), "run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"],
    {
      env: baseEnv(),
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const started = Date.now();
  const deadline = started + 120_000;
  let streaming = false;
  while (Date.now() < deadline && child.exitCode === null) {
    const reached = progress();
    if (!streaming && reached >= SNAPSHOT_ROWS) {
      streaming = true;
      whenStreaming?.();
    }
    if (reached >= target && Date.now() - started > 2000) break;
    await Bun.sleep(100);
  }
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  clearTimeout(timer);
  return { exitCode, stderr };
}

describe("postgres-cdc -> file through dstream run", () => {
  test("kill -9 mid-stream, then a restart: every change at least once", async () => {
    const db = await prepare("kill");
    const { folder, output } = taskFolder(db);
    const load = workload(db);
    const killed = await runUntil(
      folder,
      () => written(output).length,
      SNAPSHOT_ROWS + 500,
      "SIGKILL",
    );
    expect(killed.exitCode).not.toBe(0);
    expect(new Set(written(output).map((row) => row.id)).size).toBeLessThan(TOTAL);
    await load;
    const second = await runUntil(
      folder,
      () => new Set(written(output).map((row) => row.id)).size,
      TOTAL,
      "SIGTERM",
    );
    expect(second.stderr).not.toContain("error");
    expect(second.exitCode).toBe(0);
    const ids = [...new Set(written(output).map((row) => row.id))].sort((a, b) => a - b);
    expect(ids).toEqual(allIds());
    // dstream committed, so the slot was confirmed past the snapshot's start.
    expect(await confirmedFlush(db.url, db.slot)).not.toBe("");
  }, 300_000);

  test("a clean stop mid-stream, then a restart: every change exactly once", async () => {
    const db = await prepare("stop");
    const { folder, output } = taskFolder(db);
    const load = workload(db);
    const stopped = await runUntil(
      folder,
      () => written(output).length,
      SNAPSHOT_ROWS + 500,
      "SIGTERM",
    );
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.exitCode).toBe(0);
    await load;
    const afterStop = written(output).length;
    expect(afterStop).toBeLessThan(TOTAL);
    const second = await runUntil(folder, () => written(output).length, TOTAL, "SIGTERM");
    expect(second.exitCode).toBe(0);
    await Bun.sleep(1000);
    const rows = written(output);
    expect(rows.length).toBe(TOTAL);
    expect(rows.map((row) => row.id).sort((a, b) => a - b)).toEqual(allIds());
    expect(rows.map((row) => row.sequence)).toEqual(
      Array.from({ length: TOTAL }, (_, index) => index + 1),
    );
  }, 300_000);

  test("a slot created again past the checkpoint: the restart refuses instead of skipping changes", async () => {
    const db = await prepare("moved");
    const { folder, output } = taskFolder(db);
    const stopped = await runUntil(folder, () => written(output).length, SNAPSHOT_ROWS, "SIGTERM");
    expect(stopped.exitCode).toBe(0);
    // Someone drops the slot and makes it again, after changes this task has not read.
    await psql(db.url, `SELECT pg_drop_replication_slot('${db.slot}');`);
    await psql(db.url, "INSERT INTO orders VALUES (900001, 1, 'lost if skipped');");
    await psql(db.url, `SELECT pg_create_logical_replication_slot('${db.slot}', 'pgoutput');`);
    const config = join(folder, "dstream.hcl");
    const child = Bun.spawn([await dstreamBinary(), "run", "t", "-c", config, "--quiet"], {
      env: baseEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    clearTimeout(timer);
    expect(exitCode).toBe(1);
    const line = stderr.split("\n").find((text) => text.startsWith("error: "));
    expect(line).toMatch(
      new RegExp(
        `^error: task "t": input provider postgres-cdc exited with code 1: postgres-cdc: slot "${db.slot}" is at [0-9A-F]+/[0-9A-F]+, past checkpoint [0-9A-F]+/[0-9A-F]+: the changes between were released by something other than this task \\(the slot dropped and created again, another consumer, or the checkpoint set back\\) and cannot be read; to start over with a new snapshot run dstream state reset t \\(0 lines relayed, 0 in flight\\)$`,
      ),
    );
  }, 300_000);
});
