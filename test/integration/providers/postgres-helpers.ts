// The real PostgreSQL for the postgres tests (test/services/postgres.sh), a fresh database per test,
// and psql, the client that sets up and checks what dstream wrote (a client nobody here wrote).
import { resolve } from "node:path";
import { type RunResult, runProcess } from "../../helpers/binary.ts";

const repoRoot = resolve(import.meta.dir, "../../..");

let serverUrl: string | undefined;

/** Starts the cluster once per process (the script is idempotent); the superuser's URL. */
export function startPostgres(): string {
  if (serverUrl) return serverUrl;
  const started = Bun.spawnSync(["bash", resolve(repoRoot, "test/services/postgres.sh")], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 600_000,
  });
  if (started.exitCode !== 0) {
    throw new Error(`postgres.sh failed: ${started.stderr.toString().trim()}`);
  }
  serverUrl = started.stdout.toString().trim().split("\n").pop() as string;
  return serverUrl;
}

/** `url` pointing at database `name` instead (same server, user and password). */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

let databaseCount = 0;

/** A database name no other test (or test process) uses: "dstream_<label>_<pid>_<n>". */
export function uniqueDatabaseName(label: string): string {
  const safe = label.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return `dstream_${safe}_${process.pid}_${++databaseCount}`;
}

/** Creates database `name` afresh (dropped first when it exists) and returns its URL. */
export async function createDatabase(name: string): Promise<string> {
  const server = startPostgres();
  await psql(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await psql(server, `CREATE DATABASE "${name}"`);
  return databaseUrl(server, name);
}

/** Drops database `name` (closing its sessions); for afterAll/afterEach cleanup. */
export async function dropDatabase(name: string): Promise<void> {
  await psql(startPostgres(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

export type PsqlResult = RunResult;

/** Runs `sql` with psql against `url`; stops at the first error. Unaligned, tuples only. */
export function runPsql(url: string, sql: string, extra: string[] = []): Promise<PsqlResult> {
  return runProcess(
    ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", ...extra, "-d", url, "-f", "-"],
    { stdin: sql, env: { PGCONNECT_TIMEOUT: "30" }, timeoutMs: 120_000 },
  );
}

/** Runs `sql` with psql against `url` and returns its output (rows as "a|b" lines, no trailing
 * newline); throws with psql's message when it fails. */
export async function psql(url: string, sql: string, extra: string[] = []): Promise<string> {
  const result = await runPsql(url, sql, extra);
  if (result.exitCode !== 0) {
    throw new Error(`psql failed (${result.exitCode}): ${result.stderr.trim()}\nSQL: ${sql}`);
  }
  return result.stdout.replace(/\n$/, "");
}

/** The rows of `query` as lines "a|b|c" (psql's unaligned format; NULL printed as "<null>"). */
export async function psqlRows(url: string, query: string): Promise<string[]> {
  const output = await psql(url, query, ["-P", "null=<null>"]);
  return output === "" ? [] : output.split("\n");
}
