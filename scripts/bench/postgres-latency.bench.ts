// End-to-end latency of postgres-cdc -> postgres (replicate), issue 10: pgbench commits single-row
// inserts at a steady rate on the source (each row carries the source's clock_timestamp()); the
// replica's table stamps each row with its own clock_timestamp() when dstream writes it. One server
// (test/services/postgres.sh), so one clock. Beside it, pgbench's own latency for the same commits.
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { databaseUrl, psql, startPostgres } from "./postgres-service.ts";
import { machineLine } from "./timing.ts";

const RATE = Number(process.env.BENCH_LATENCY_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 15);
const SOURCE = "dstream_bench_latency_source";
const REPLICA = "dstream_bench_latency_replica";

function pgbenchPath(): string {
  const root = "/usr/lib/postgresql";
  for (const version of readdirSync(root).sort().reverse()) {
    const path = join(root, version, "bin", "pgbench");
    if (existsSync(path)) return path;
  }
  throw new Error("no pgbench under /usr/lib/postgresql/*/bin");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default async function postgresLatencyBench(): Promise<string> {
  const server = startPostgres();
  for (const name of [SOURCE, REPLICA]) {
    psql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    psql(server, `CREATE DATABASE ${name}`);
  }
  const source = databaseUrl(server, SOURCE);
  const replica = databaseUrl(server, REPLICA);
  psql(source, "CREATE TABLE lat (id int8 PRIMARY KEY, at timestamptz NOT NULL)");
  psql(source, "CREATE SEQUENCE lat_id");
  psql(
    replica,
    "CREATE TABLE lat (id int8 PRIMARY KEY, at timestamptz NOT NULL, seen_at timestamptz NOT NULL DEFAULT clock_timestamp())",
  );
  const binary = await buildBenchBinary();
  const config = join(binary.folder, "latency.hcl");
  writeFileSync(
    config,
    `task "latency" {\n  input {\n    provider = "postgres-cdc"\n    config {\n      connection_string = "${source}"\n      tables            = ["lat"]\n      snapshot          = "never"\n    }\n  }\n  output {\n    provider = "postgres"\n    config {\n      connection_string = "${replica}"\n      mode              = "replicate"\n    }\n  }\n}\n`,
  );
  const script = join(binary.folder, "insert.sql");
  writeFileSync(script, "INSERT INTO lat VALUES (nextval('lat_id'), clock_timestamp());\n");
  rmSync(join(binary.folder, ".dstream"), { recursive: true, force: true });
  const run = Bun.spawn([binary.path, "run", "latency", "-c", config, "--quiet"], {
    cwd: binary.folder,
    stdout: "ignore",
    stderr: "pipe",
  });
  let pgbenchLatency = "";
  let count = 0;
  try {
    // The slot is made when the run starts: wait until it streams.
    for (let tries = 0; tries < 300; tries++) {
      const active = psql(
        source,
        "SELECT count(*) FROM pg_replication_slots WHERE database = current_database() AND active",
      );
      if (active === "1") break;
      await sleep(100);
    }
    await sleep(500);
    const bench = Bun.spawnSync(
      [
        pgbenchPath(),
        "-n",
        "-c",
        "4",
        "-j",
        "2",
        "-R",
        String(RATE),
        "-T",
        String(SECONDS),
        "-f",
        script,
        source,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    if (bench.exitCode !== 0) throw new Error(`pgbench failed: ${bench.stderr}`);
    pgbenchLatency = /latency average = ([\d.]+) ms/.exec(bench.stdout.toString())?.[1] ?? "?";
    count = Number(psql(source, "SELECT count(*) FROM lat"));
    for (let tries = 0; tries < 600; tries++) {
      if (Number(psql(replica, "SELECT count(*) FROM lat")) >= count) break;
      await sleep(100);
    }
  } finally {
    run.kill("SIGTERM");
    await run.exited;
    binary.remove();
  }
  const [median, p99, max, rows] = psql(
    replica,
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), max(ms), count(*)
       FROM (SELECT extract(epoch FROM seen_at - at) * 1000 AS ms FROM lat) latencies`,
  )
    .split("|")
    .map(Number);
  for (const name of [SOURCE, REPLICA])
    psql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const ms = (value: number | undefined) => `${(value ?? Number.NaN).toFixed(1)} ms`;
  return `## PostgreSQL end to end: postgres-cdc -> postgres (replicate)

pgbench commits ${RATE.toLocaleString("en-US")} single-row inserts a second for ${SECONDS} s on the source (4 clients, \`-R ${RATE}\`); each row holds the source's \`clock_timestamp()\` at its insert. \`dstream run\` (postgres-cdc -> postgres replicate, default batching, from the compiled binary) writes them into the replica, whose table stamps each row with \`clock_timestamp()\` as dstream writes it, just before its batch commits. One server, so one clock. On ${machineLine()}.

| measure | median | p99 | max | rows |
| --- | --- | --- | --- | --- |
| source commit -> row written in the replica | ${ms(median)} | ${ms(p99)} | ${ms(max)} | ${rows?.toLocaleString("en-US")} of ${count.toLocaleString("en-US")} |
| baseline: pgbench's own latency of those commits (average) | ${pgbenchLatency} ms | | | |
`;
}
