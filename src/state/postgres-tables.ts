// dstream's own tables in the postgres state backend, created when missing (safely when several
// processes start at once), and the advisory lock keys derived from their names.
import { createHash } from "node:crypto";
import type { PostgresSession } from "./postgres-connection.ts";

/** Where the tables are: `<schema>.<table>` holds checkpoints, `<schema>.<table>_locks` run owners. */
export interface StateTables {
  schema: string;
  table: string;
}

export const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function tableNames({ schema, table }: StateTables) {
  return {
    checkpoints: `${quoteName(schema)}.${quoteName(table)}`,
    locks: `${quoteName(schema)}.${quoteName(`${table}_locks`)}`,
    /** For messages. */
    shown: `${schema}.${table}`,
  };
}

/** A signed 64-bit advisory lock key: the first 8 bytes of sha256 over a namespace and names. */
export function advisoryKey(...parts: string[]): string {
  const digest = createHash("sha256").update(parts.join("\0")).digest();
  return digest.readBigInt64BE(0).toString();
}

/** The run lock of `task` in this store: tasks of other tables (other stores) never collide. */
export function taskLockKey(tables: StateTables, task: string): string {
  return advisoryKey("dstream state run lock", tables.schema, tables.table, task);
}

/** Creates the schema (when missing) and both tables IF NOT EXISTS; needs CREATE only then. */
export async function ensureTables(session: PostgresSession, tables: StateTables): Promise<void> {
  const names = tableNames(tables);
  const [found] = await session.query<{ ready: boolean }>(
    "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS ready",
    [names.checkpoints, names.locks],
  );
  if (found?.ready) return;
  await session.query("BEGIN");
  try {
    // IF NOT EXISTS alone races (two creators both insert the catalog row): one at a time.
    await session.query("SELECT pg_advisory_xact_lock($1::bigint)", [
      advisoryKey("dstream state tables", tables.schema, tables.table),
    ]);
    const [schema] = await session.query<{ present: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present",
      [tables.schema],
    );
    if (!schema?.present) {
      await session.query(`CREATE SCHEMA IF NOT EXISTS ${quoteName(tables.schema)}`);
    }
    await session.query(`CREATE TABLE IF NOT EXISTS ${names.checkpoints} (
      task text PRIMARY KEY,
      checkpoint json NOT NULL,
      committed_at timestamptz NOT NULL,
      committed_by json NOT NULL
    )`);
    await session.query(`CREATE TABLE IF NOT EXISTS ${names.locks} (
      task text PRIMARY KEY,
      run text NOT NULL,
      pid integer NOT NULL,
      host text NOT NULL,
      since timestamptz NOT NULL,
      backend_pid integer NOT NULL
    )`);
    await session.query("COMMIT");
  } catch (error) {
    await session.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
