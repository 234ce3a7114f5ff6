// The publication and the replication slot: look them up, create them (the publication marked as
// dstream's with a COMMENT, so destroy drops only what dstream made), and drop them.
import type pg from "pg";
import type { CapturedTable } from "./checks.ts";
import { quoteIdentifier, quoteLiteral } from "./connection.ts";

/** The COMMENT on a publication dstream created; destroy drops only publications carrying it. */
const ownedMarker = "created by dstream postgres-cdc";

export interface PublicationState {
  exists: boolean;
  ownedByDstream: boolean;
  /** "schema.table" of each table it publishes (all tables: "*"). */
  tables: string[];
}

export interface SlotState {
  exists: boolean;
  plugin?: string;
  database?: string;
  active?: boolean;
  activePid?: number | null;
  confirmedFlushLsn?: string | null;
  /** The oldest WAL the slot still needs (decoding restarts there): the server keeps all after it. */
  restartLsn?: string | null;
  /** pg_current_wal_lsn() - restart_lsn: the WAL the slot keeps on the server's disk. */
  retainedBytes?: number | null;
  /** pg_current_wal_lsn() - confirmed_flush_lsn: the changes not yet confirmed by dstream. */
  unconfirmedBytes?: number | null;
}

export async function publicationState(client: pg.Client, name: string): Promise<PublicationState> {
  const found = (
    await client.query(
      "SELECT p.puballtables AS all, obj_description(p.oid, 'pg_publication') AS comment FROM pg_publication p WHERE p.pubname = $1",
      [name],
    )
  ).rows[0] as { all: string; comment: string | null } | undefined;
  if (!found) return { exists: false, ownedByDstream: false, tables: [] };
  const tables = (
    await client.query(
      "SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
      [name],
    )
  ).rows.map((row: { name: string }) => row.name);
  return {
    exists: true,
    ownedByDstream: (found.comment ?? "").startsWith(ownedMarker),
    tables: found.all === "t" ? ["*", ...tables] : tables,
  };
}

const qualified = (table: CapturedTable) => `${table.schema}.${table.name}`;

/**
 * Creates the publication, or adds missing tables to one dstream created; says what it did (""
 * when nothing). A publication someone else made that lacks a table is an error with the fix.
 */
export async function ensurePublication(
  client: pg.Client,
  name: string,
  tables: CapturedTable[],
  task: string,
): Promise<string> {
  const state = await publicationState(client, name);
  const list = tables.map((table) => table.sql).join(", ");
  if (!state.exists) {
    await client.query(`CREATE PUBLICATION ${quoteIdentifier(name)} FOR TABLE ${list}`);
    await client.query(
      `COMMENT ON PUBLICATION ${quoteIdentifier(name)} IS ${quoteLiteral(`${ownedMarker} for task "${task}"`)}`,
    );
    return `created publication "${name}" for ${tables.map(qualified).join(", ")}`;
  }
  if (state.tables.includes("*")) return "";
  const missing = tables.filter((table) => !state.tables.includes(qualified(table)));
  if (missing.length === 0) return "";
  if (!state.ownedByDstream) {
    const names = missing.map((table) => table.sql).join(", ");
    throw new Error(
      `postgres-cdc: publication "${name}" does not publish ${missing.map(qualified).join(", ")}: ALTER PUBLICATION ${quoteIdentifier(name)} ADD TABLE ${names} (or set publication to another name)`,
    );
  }
  await client.query(
    `ALTER PUBLICATION ${quoteIdentifier(name)} ADD TABLE ${missing.map((table) => table.sql).join(", ")}`,
  );
  return `added ${missing.map(qualified).join(", ")} to publication "${name}"`;
}

export async function slotState(client: pg.Client, name: string): Promise<SlotState> {
  const row = (
    await client.query(
      `SELECT plugin, database, active, active_pid, confirmed_flush_lsn::text AS confirmed,
              restart_lsn::text AS restart,
              (pg_current_wal_lsn() - restart_lsn)::text AS retained,
              (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS unconfirmed
         FROM pg_replication_slots WHERE slot_name = $1`,
      [name],
    )
  ).rows[0] as
    | {
        plugin: string;
        database: string;
        active: string;
        active_pid: string | null;
        confirmed: string | null;
        restart: string | null;
        retained: string | null;
        unconfirmed: string | null;
      }
    | undefined;
  if (!row) return { exists: false };
  return {
    exists: true,
    plugin: row.plugin,
    database: row.database,
    active: row.active === "t",
    activePid: row.active_pid === null ? null : Number(row.active_pid),
    confirmedFlushLsn: row.confirmed,
    restartLsn: row.restart,
    retainedBytes: row.retained === null ? null : Number(row.retained),
    unconfirmedBytes: row.unconfirmed === null ? null : Number(row.unconfirmed),
  };
}

/** A slot for this task must decode with pgoutput in this database. */
export function checkSlotFits(slot: string, state: SlotState, database: string): void {
  if (!state.exists) return;
  if (state.plugin !== "pgoutput" || state.database !== database) {
    throw new Error(
      `postgres-cdc: slot "${slot}" exists but decodes ${state.plugin ? `with ${state.plugin}` : "physically"} in database "${state.database ?? "-"}", not with pgoutput in "${database}"; set slot to another name or drop it: SELECT pg_drop_replication_slot('${slot}')`,
    );
  }
}

export function slotActiveMessage(slot: string, pid: number | null | undefined): string {
  return `postgres-cdc: slot "${slot}" is active in another process (pid ${pid ?? "unknown"}): stop the other run of this task, or end that session with SELECT pg_terminate_backend(${pid ?? "<pid>"})`;
}

/** Creates the persistent slot without a snapshot (init, or run with snapshot = "never"); its start LSN. */
export async function createSlot(client: pg.Client, name: string): Promise<string> {
  const row = (
    await client.query(
      "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
      [name],
    )
  ).rows[0] as { lsn: string };
  return row.lsn;
}

export async function dropSlot(client: pg.Client, name: string): Promise<void> {
  await client.query("SELECT pg_drop_replication_slot($1)", [name]);
}

export async function dropPublication(client: pg.Client, name: string): Promise<void> {
  await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdentifier(name)}`);
}
