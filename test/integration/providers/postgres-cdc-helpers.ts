// postgres-cdc in the compiled binary against the real PostgreSQL: a database and a slot name per
// test, the input started with a v2 envelope, its lines parsed, commits sent, slots cleaned up.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dstreamBinary } from "../../helpers/binary.ts";
import { type ProviderProcess, startProvider } from "./helpers.ts";
import { createDatabase, psql, startPostgres, uniqueDatabaseName } from "./postgres-helpers.ts";

export const ready = '{"status":"ready","protocol":2}';

export interface CdcLine {
  data?: Record<string, unknown> | null;
  metadata?: {
    table: string;
    operation: string;
    lsn: string;
    sequence: number;
    txid?: number;
    commit_time?: string;
    source: string;
    snapshot?: boolean;
    before?: Record<string, unknown>;
    unchanged_toast?: string[];
    key?: string[];
  };
  checkpoint?: { phase: string; lsn?: string; sequence: number; tx?: string; done?: number };
}

export interface CdcDatabase {
  url: string;
  name: string;
  slot: string;
  publication: string;
}

const created: CdcDatabase[] = [];

/** A fresh database and names for its slot and publication (slots are cluster-wide: unique). */
export async function cdcDatabase(label: string): Promise<CdcDatabase> {
  const name = uniqueDatabaseName(`cdc_${label}`);
  const url = await createDatabase(name);
  const database = { url, name, slot: `${name}_slot`.slice(0, 63), publication: `${name}_pub` };
  created.push(database);
  return database;
}

/** Drops the slots of every database made here, then the databases (a slot pins its database). */
export async function dropCdcDatabases(): Promise<void> {
  const server = startPostgres();
  for (const database of created.splice(0)) {
    await psql(
      server,
      `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = '${database.name}' AND active_pid IS NOT NULL;`,
    ).catch(() => "");
    await Bun.sleep(200);
    await psql(
      server,
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '${database.name}' AND NOT active;`,
    ).catch(() => "");
    await psql(server, `DROP DATABASE IF EXISTS "${database.name}" WITH (FORCE)`).catch(() => "");
  }
}

export function cdcConfig(database: CdcDatabase, extra: Record<string, unknown> = {}) {
  return {
    connection_string: database.url,
    slot: database.slot,
    publication: database.publication,
    ...extra,
  };
}

export async function startCdc(
  config: Record<string, unknown>,
  checkpoint: unknown = null,
  command = "run",
): Promise<ProviderProcess> {
  return startProvider([await dstreamBinary(), "__provider", "postgres-cdc"], {
    role: "input",
    firstLine: JSON.stringify({ command, config, protocol: 2, checkpoint }),
  });
}

/** A lifecycle command's result line and stderr. */
export async function lifecycle(
  command: string,
  config: Record<string, unknown>,
): Promise<{
  exitCode: number;
  result: { status: string; message: string; resources: unknown[] };
  stderr: string;
}> {
  const provider = await startCdc(config, null, command);
  provider.end();
  const finished = await provider.finish(60_000);
  const line = finished.stdout.trim().split("\n").pop() ?? "{}";
  return { exitCode: finished.exitCode, result: JSON.parse(line), stderr: finished.stderr };
}

export function linesOf(provider: ProviderProcess): CdcLine[] {
  return provider.stdout
    .split("\n")
    .filter((line) => line !== "" && line !== ready)
    .map((line) => JSON.parse(line) as CdcLine);
}

export const eventsOf = (lines: CdcLine[]) => lines.filter((line) => line.metadata);
export const lastCheckpoint = (lines: CdcLine[]) =>
  lines.filter((line) => line.checkpoint).pop()?.checkpoint;

/** Waits until `events` events and a checkpoint after the last of them were written. */
export async function waitForEvents(
  provider: ProviderProcess,
  events: number,
  timeoutMs = 60_000,
): Promise<CdcLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = provider.stdout;
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    const lines = complete
      .split("\n")
      .filter((line) => line !== "" && line !== ready)
      .map((line) => JSON.parse(line) as CdcLine);
    const count = eventsOf(lines).length;
    if (count >= events && lines[lines.length - 1]?.checkpoint) return lines;
    if (Date.now() > deadline || provider.child.exitCode !== null) {
      throw new Error(
        `took too long: ${events} events expected, got ${count}:\n${text.slice(-3000)}`,
      );
    }
    await Bun.sleep(50);
  }
}

export async function stopCdc(provider: ProviderProcess) {
  provider.child.kill("SIGTERM");
  return provider.finish(30_000);
}

/** Sends dstream's commit of `checkpoint` to the input. */
export function commit(provider: ProviderProcess, checkpoint: unknown): void {
  provider.write(`${JSON.stringify({ command: "commit", checkpoint })}\n`);
}

export async function confirmedFlush(url: string, slot: string): Promise<string> {
  return psql(
    url,
    `SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '${slot}'`,
  );
}

/** Polls `probe` until it returns true; fails naming `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`took too long: ${what}`);
    await Bun.sleep(100);
  }
}

export interface SpareCluster {
  url: string;
  stop(): Promise<void>;
}

/** A second, throwaway cluster with wal_level = replica (the service's is logical), for that error. */
export async function startReplicaLevelCluster(): Promise<SpareCluster> {
  const root = "/usr/lib/postgresql";
  const version = readdirSync(root)
    .sort()
    .reverse()
    .find((name) => existsSync(join(root, name, "bin", "initdb")));
  if (!version) throw new Error("no initdb under /usr/lib/postgresql/*/bin");
  const bin = join(root, version, "bin");
  const folder = mkdtempSync(join(tmpdir(), "dstream-pg-replica-"));
  const asServer = (argv: string[]) => {
    const result = Bun.spawnSync(["runuser", "-u", "postgres", "--", ...argv], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 120_000,
    });
    if (result.exitCode !== 0) throw new Error(`${argv[0]} failed: ${result.stderr}`);
  };
  Bun.spawnSync(["chown", "postgres", folder]);
  asServer([
    join(bin, "initdb"),
    "-D",
    join(folder, "data"),
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
  ]);
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c wal_level=replica -c unix_socket_directories=${folder}`;
  asServer([
    join(bin, "pg_ctl"),
    "-D",
    join(folder, "data"),
    "-o",
    options,
    "-l",
    join(folder, "log"),
    "-w",
    "-t",
    "60",
    "start",
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      Bun.spawnSync([
        "runuser",
        "-u",
        "postgres",
        "--",
        join(bin, "pg_ctl"),
        "-D",
        join(folder, "data"),
        "-m",
        "immediate",
        "-w",
        "stop",
      ]);
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
