// The PostgreSQL server of test/services/postgres.sh for the postgres benchmarks, and psql.
import { resolve } from "node:path";

/** Starts the cluster (idempotent) and returns the superuser's URL. */
export function startPostgres(): string {
  const script = resolve(import.meta.dir, "../../test/services/postgres.sh");
  const started = Bun.spawnSync(["bash", script], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 600_000,
  });
  if (started.exitCode !== 0) throw new Error(`postgres.sh failed: ${started.stderr}`);
  return started.stdout.toString().trim().split("\n").pop() as string;
}

/** Runs one SQL command with psql; its rows unaligned, without headers. Throws on an error. */
export function psql(url: string, sql: string): string {
  const result = Bun.spawnSync(
    ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
    { stdout: "pipe", stderr: "pipe", timeout: 600_000 },
  );
  if (result.exitCode !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.toString().trim();
}

/** `server` pointing at database `name`. */
export function databaseUrl(server: string, name: string): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}
