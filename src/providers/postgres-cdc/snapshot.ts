// The initial snapshot: a slot created with EXPORT_SNAPSHOT gives the exact point where streaming
// starts, and the tables are read in that snapshot through a cursor, one FETCH at a time (the
// consumer pulls the next batch only when it wants it: memory stays flat however large the table).
import type pg from "pg";
import { type CapturedTable, loadTypes } from "./checks.ts";
import { quoteIdentifier } from "./connection.ts";
import { columnShape, rowJson, snapshotLine, type TableShape, tableShape } from "./events.ts";
import type { TypeCatalog } from "./values.ts";

export interface ExportedSnapshot {
  /** The slot's consistent point: the snapshot holds every transaction committed before it. */
  lsn: string;
  name: string;
}

/**
 * On a replication connection: creates `slot` (persistent, or temporary when the task's slot
 * already exists and only a snapshot is needed) and exports its snapshot. The snapshot is valid
 * until the next command on that connection.
 */
export async function exportSnapshot(
  replication: pg.Client,
  slot: string,
  temporary: boolean,
): Promise<ExportedSnapshot> {
  const result = await replication.query(
    `CREATE_REPLICATION_SLOT ${quoteIdentifier(slot)}${temporary ? " TEMPORARY" : ""} LOGICAL pgoutput EXPORT_SNAPSHOT`,
  );
  const row = result.rows[0] as { consistent_point: string; snapshot_name: string };
  return { lsn: row.consistent_point, name: row.snapshot_name };
}

/** Opens the read-only transaction that sees exactly the exported snapshot. */
export async function beginSnapshot(client: pg.Client, snapshot: ExportedSnapshot): Promise<void> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshot.name.replaceAll("'", "''")}'`);
}

export interface SnapshotOptions {
  tables: CapturedTable[];
  lsn: string;
  batchRows: number;
  /** The sequence number of the last event before the snapshot (0 on a first run). */
  sequence: number;
}

export interface SnapshotBatch {
  text: string;
  /** The sequence number of the batch's last event. */
  sequence: number;
}

function shapeOf(table: CapturedTable, fields: pg.FieldDef[], catalog: TypeCatalog): TableShape {
  const keys = new Set(table.keyColumns);
  const columns = fields.map((field) =>
    columnShape(field.name, catalog.resolve(field.dataTypeID), keys.has(field.name)),
  );
  return tableShape(table.schema, table.name, columns, table.keyColumns);
}

/**
 * The table's columns as a SELECT list, without generated ones: pgoutput leaves those out of the
 * changes it streams, so snapshot rows have the same columns as streamed ones. (to_jsonb reads
 * attgenerated where the server has it, PostgreSQL 12 and later.)
 */
async function selectList(client: pg.Client, table: CapturedTable): Promise<string> {
  const result = await client.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute a
      WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped
        AND coalesce(to_jsonb(a)->>'attgenerated', '') = ''
      ORDER BY attnum`,
    [table.oid],
  );
  return result.rows.map((row) => quoteIdentifier(row.name)).join(", ");
}

/** Every row of every table as event lines, one batch per FETCH; ends the transaction. */
export async function* snapshotBatches(
  client: pg.Client,
  options: SnapshotOptions,
): AsyncGenerator<SnapshotBatch> {
  const catalog = await loadTypes(client);
  let sequence = options.sequence;
  for (const table of options.tables) {
    const cursor = quoteIdentifier(`dstream_snapshot_${table.oid}`);
    const columns = await selectList(client, table);
    await client.query(
      `DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${columns} FROM ${table.sql}`,
    );
    let shape: TableShape | undefined;
    for (;;) {
      const result = await client.query({
        text: `FETCH FORWARD ${options.batchRows} FROM ${cursor}`,
        rowMode: "array",
      });
      if (result.rows.length === 0) break;
      shape ??= shapeOf(table, result.fields, catalog);
      let text = "";
      for (const values of result.rows as (string | null)[][]) {
        text += snapshotLine(shape, rowJson(shape.columns, values).json, ++sequence, options.lsn);
      }
      yield { text, sequence };
      if (result.rows.length < options.batchRows) break;
    }
    await client.query(`CLOSE ${cursor}`);
  }
  await client.query("COMMIT");
}
