// postgres-cdc figures (issue 10): CDC throughput from a prepared WAL of 1,000,000 row changes,
// postgres-cdc -> null beside `pg_recvlogical` decoding the same changes (pgoutput, same
// publication) to /dev/null from a second slot created at the same point, on the server of
// test/services/postgres.sh, interleaved in one run. The server's own decoding is the limit.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { psql, startPostgres } from "./postgres-service.ts";
import { machineLine } from "./timing.ts";

const CHANGES = Number(process.env.BENCH_CDC_CHANGES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS_PER_TRANSACTION = 10_000;
const DATABASE = "dstream_bench_cdc";

function pgRecvlogical(): string {
  const root = "/usr/lib/postgresql";
  for (const version of readdirSync(root).sort().reverse()) {
    const path = join(root, version, "bin", "pg_recvlogical");
    if (existsSync(path)) return path;
  }
  throw new Error("no pg_recvlogical under /usr/lib/postgresql/*/bin");
}

/** Two slots at the same point, then the changes: both slots hold exactly the same WAL. */
function prepareRun(url: string, run: number): { ours: string; theirs: string; endLsn: string } {
  const ours = `bench_cdc_dstream_${run}`;
  const theirs = `bench_cdc_recvlogical_${run}`;
  psql(url, "TRUNCATE bench");
  psql(url, `SELECT pg_create_logical_replication_slot('${ours}', 'pgoutput')`);
  psql(url, `SELECT pg_create_logical_replication_slot('${theirs}', 'pgoutput')`);
  psql(
    url,
    `DO $$ BEGIN
       FOR t IN 0..${Math.ceil(CHANGES / ROWS_PER_TRANSACTION) - 1} LOOP
         INSERT INTO bench SELECT t * ${ROWS_PER_TRANSACTION} + i, i * 1.25, 'customer ' || i || ' at example.com',
                                  '2026-01-01'::timestamptz + i * interval '1 second'
           FROM generate_series(1, ${ROWS_PER_TRANSACTION}) i;
         COMMIT;
       END LOOP;
     END $$`,
  );
  return { ours, theirs, endLsn: psql(url, "SELECT pg_current_wal_lsn()") };
}

function dropSlots(url: string): void {
  psql(
    url,
    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'bench_cdc_%' AND NOT active",
  );
}

/** Changes covered by the task's committed checkpoint (its state file under .dstream/). */
function committedChanges(folder: string): number {
  try {
    const state = JSON.parse(
      readFileSync(join(folder, ".dstream", "cdc.checkpoint.json"), "utf8"),
    ) as {
      checkpoint?: { sequence?: number };
    };
    return state.checkpoint?.sequence ?? 0;
  } catch {
    return 0;
  }
}

async function timedDstream(binary: string, config: string, folder: string): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn([binary, "run", "cdc", "-c", config, "--quiet"], {
    cwd: folder,
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = new Response(child.stderr).text();
  const deadline = Date.now() + 600_000;
  while (committedChanges(folder) < CHANGES) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`dstream run did not finish: ${await stderr}`);
    }
    await Bun.sleep(20);
  }
  const seconds = (performance.now() - started) / 1000;
  child.kill("SIGTERM");
  await child.exited;
  return seconds;
}

async function timedRecvlogical(url: string, slot: string, endLsn: string): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn(
    [
      pgRecvlogical(),
      "-d",
      url,
      "--slot",
      slot,
      "--start",
      "--no-loop",
      "--endpos",
      endLsn,
      "-o",
      "proto_version=1",
      "-o",
      "publication_names=bench_cdc",
      "-f",
      "/dev/null",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const code = await child.exited;
  if (code !== 0)
    throw new Error(`pg_recvlogical exited ${code}: ${await new Response(child.stderr).text()}`);
  return (performance.now() - started) / 1000;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const rate = (seconds: number) => Math.round(CHANGES / seconds).toLocaleString("en-US");

export default async function postgresCdcBench(): Promise<string> {
  const server = startPostgres();
  psql(server, `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  psql(server, `CREATE DATABASE ${DATABASE}`);
  const url = new URL(server);
  url.pathname = `/${DATABASE}`;
  const database = url.toString();
  psql(
    database,
    "CREATE TABLE bench (id int8 PRIMARY KEY, amount numeric, note text, at timestamptz)",
  );
  psql(database, "CREATE PUBLICATION bench_cdc FOR TABLE bench");
  const binary = await buildBenchBinary();
  const timings = { dstream: [] as number[], recvlogical: [] as number[] };
  try {
    for (let run = 1; run <= RUNS; run++) {
      const { ours, theirs, endLsn } = prepareRun(database, run);
      const config = join(binary.folder, "cdc.hcl");
      writeFileSync(
        config,
        `task "cdc" {\n  input {\n    provider = "postgres-cdc"\n    config {\n      connection_string = "${database}"\n      tables            = ["bench"]\n      slot              = "${ours}"\n      publication       = "bench_cdc"\n      snapshot          = "never"\n    }\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
      );
      rmSync(join(binary.folder, ".dstream"), { recursive: true, force: true });
      // Alternate who goes first: the second reads WAL the first brought into the page cache.
      if (run % 2 === 1) {
        timings.recvlogical.push(await timedRecvlogical(database, theirs, endLsn));
        timings.dstream.push(await timedDstream(binary.path, config, binary.folder));
      } else {
        timings.dstream.push(await timedDstream(binary.path, config, binary.folder));
        timings.recvlogical.push(await timedRecvlogical(database, theirs, endLsn));
      }
      dropSlots(database);
    }
  } finally {
    dropSlots(database);
    binary.remove();
    psql(server, `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  }
  const ours = median(timings.dstream);
  const theirs = median(timings.recvlogical);
  const ratio = theirs / ours;
  return `## PostgreSQL CDC (postgres-cdc)

${CHANGES.toLocaleString("en-US")} row inserts (${Math.ceil(CHANGES / ROWS_PER_TRANSACTION)} transactions of ${ROWS_PER_TRANSACTION.toLocaleString("en-US")}; columns int8, numeric, text, timestamptz) written to the WAL before either reader starts; two pgoutput slots created at the same point. \`dstream run\` (postgres-cdc -> null, from the compiled binary, snapshot = "never") is timed from start until its committed checkpoint covers every change; \`pg_recvlogical --start --endpos\` (proto_version 1, same publication) decodes the same changes to /dev/null. Median of ${RUNS} interleaved runs (order alternating), on ${machineLine()}.

| Reader | Median | Throughput | vs pg_recvlogical |
| --- | --- | --- | --- |
| pg_recvlogical (baseline: the server's decoding, no client work) | ${theirs.toFixed(2)} s | ${rate(theirs)} changes/s | 1.00 |
| dstream postgres-cdc -> null (decode pgoutput, build JSON lines, relay, commit) | ${ours.toFixed(2)} s | ${rate(ours)} changes/s | ${ratio.toFixed(2)} |

Target: at least 0.5 of pg_recvlogical. Runs (s): dstream ${timings.dstream.map((value) => value.toFixed(2)).join(", ")}; pg_recvlogical ${timings.recvlogical.map((value) => value.toFixed(2)).join(", ")}.
`;
}
