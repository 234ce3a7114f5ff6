// The fast path of insert and upsert: a batch becomes COPY runs (one per stretch of events with
// the same columns) written in one transaction; upsert copies into a temporary table first, then
// INSERT ... ON CONFLICT from it. Anything unusual goes the general way (writer.ts), which also
// names the event and column of a refused row.
import type pg from "pg";
import { copyIn } from "./copy-in.ts";
import {
  appendField,
  ByteBuilder,
  type ColumnKind,
  columnKind,
  type ScannedRow,
  scanData,
  UnscannableLine,
} from "./copy-rows.ts";
import { qualifiedName, quoteIdentifier, type TableInfo } from "./tables.ts";

export interface CopyRun {
  columns: string[];
  data: Uint8Array;
}

function sameNames(columns: string[], names: string[]): boolean {
  if (columns.length !== names.length) return false;
  for (let index = 0; index < names.length; index++) {
    if (columns[index] !== names[index]) return false;
  }
  return true;
}

/**
 * The batch as COPY runs, or undefined when a line needs the general path (odd JSON, an unknown
 * column, a key column missing).
 */
export function copyRuns(
  lines: readonly Uint8Array[],
  info: TableInfo,
  key: readonly string[] = [],
): CopyRun[] | undefined {
  const runs: CopyRun[] = [];
  const out = new ByteBuilder();
  const row: ScannedRow = { names: [], starts: [], ends: [] };
  let columns: string[] | undefined;
  let kinds: ColumnKind[] = [];
  try {
    for (const line of lines) {
      scanData(line, row);
      if (!columns || !sameNames(columns, row.names)) {
        if (row.names.length === 0 || row.names.some((name) => !info.columns.has(name))) {
          return undefined;
        }
        if (key.some((column) => !row.names.includes(column))) return undefined;
        if (new Set(row.names).size !== row.names.length) return undefined;
        if (columns) runs.push({ columns, data: out.take() });
        columns = [...row.names];
        kinds = columns.map((name) => columnKind(info.columns.get(name)));
      }
      for (let field = 0; field < row.names.length; field++) {
        if (field > 0) out.push(0x09);
        const kind = kinds[field] ?? "plain";
        appendField(out, line, row.starts[field] as number, row.ends[field] as number, kind);
      }
      out.push(0x0a);
    }
  } catch (error) {
    // A string escape JSON.parse refuses: the general path says which line is not JSON.
    if (error instanceof UnscannableLine || error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (columns) runs.push({ columns, data: out.take() });
  return runs;
}

/** The temporary table an upsert copies into, per target table: created once per connection. */
export class UpsertStages {
  readonly #names = new Map<string, string>();

  /** The stage of `info`'s table; may run inside a transaction (see forget). */
  async of(client: pg.Client, info: TableInfo): Promise<string> {
    const table = qualifiedName(info.table);
    let name = this.#names.get(table);
    if (name === undefined) {
      name = `pg_temp.dstream_stage_${this.#names.size + 1}`;
      // No constraints copied: a column an event leaves out takes the target's default later.
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${name} ON COMMIT DELETE ROWS AS SELECT * FROM ${table} WITH NO DATA`,
      );
      this.#names.set(table, name);
    }
    return name;
  }

  /** After a rollback: a stage created in that transaction is gone (IF NOT EXISTS covers the rest). */
  forget(): void {
    this.#names.clear();
  }
}

/** Upserts the runs through the stage, inside the caller's transaction. */
async function upsertThroughStage(
  client: pg.Client,
  stages: UpsertStages,
  info: TableInfo,
  runs: CopyRun[],
  key: string[],
): Promise<void> {
  const stage = await stages.of(client, info);
  for (const run of runs) {
    await copyIn(client, `${stage} (${run.columns.map(quoteIdentifier).join(", ")})`, run.data);
    await client.query(upsertFromStage(info, stage, run.columns, key));
    await client.query(`DELETE FROM ${stage}`);
  }
}

/**
 * Upserts the events of `lines` through the stage with COPY, inside the caller's transaction;
 * false when the lines need the JSON statement.
 */
export async function upsertRunByCopy(
  client: pg.Client,
  stages: UpsertStages,
  info: TableInfo,
  lines: readonly Uint8Array[],
  key: string[],
): Promise<boolean> {
  const runs = copyRuns(lines, info, key);
  if (!runs) return false;
  await upsertThroughStage(client, stages, info, runs, key);
  return true;
}

function upsertFromStage(info: TableInfo, stage: string, columns: string[], key: string[]): string {
  const list = columns.map(quoteIdentifier).join(", ");
  const keyList = key.map(quoteIdentifier).join(", ");
  const updated = columns.filter((column) => !key.includes(column));
  const action =
    updated.length === 0
      ? "DO NOTHING"
      : `DO UPDATE SET ${updated.map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`).join(", ")}`;
  // The last event of a key wins: ctid grows with the order COPY wrote the rows in.
  return `INSERT INTO ${qualifiedName(info.table)} (${list}) SELECT DISTINCT ON (${keyList}) ${list} FROM ${stage} ORDER BY ${keyList}, ctid DESC ON CONFLICT (${keyList}) ${action}`;
}

/**
 * Writes the batch with COPY in one transaction (upsert: through the stages, by `key`); true once
 * it is committed, false when it needs the general path.
 */
export async function applyCopyRuns(
  client: pg.Client,
  info: TableInfo,
  lines: readonly Uint8Array[],
  upsert?: { stages: UpsertStages; key: string[] },
): Promise<boolean> {
  const runs = copyRuns(lines, info, upsert?.key);
  if (!runs) return false;
  try {
    await client.query("BEGIN");
    if (upsert) await upsertThroughStage(client, upsert.stages, info, runs, upsert.key);
    else {
      const table = qualifiedName(info.table);
      for (const run of runs) {
        await copyIn(client, `${table} (${run.columns.map(quoteIdentifier).join(", ")})`, run.data);
      }
    }
    await client.query("COMMIT");
    return true;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    upsert?.stages.forget();
    throw error;
  }
}
