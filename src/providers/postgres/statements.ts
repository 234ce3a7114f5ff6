// The SQL of each run. Events travel as one JSON array parameter ($1, the lines as they came) and
// the server reads each value from its own JSON text: no number passes through a JavaScript double.
import type { Run } from "./events.ts";
import { qualifiedName, quoteIdentifier, type TableInfo } from "./tables.ts";

/** A column's value from a JSON object `source`: bytea comes as base64, the rest by the record `row`. */
export function valueExpression(
  info: TableInfo,
  column: string,
  source: string,
  row: string,
): string {
  const name = quoteIdentifier(column);
  if (info.columns.get(column) === "bytea") {
    return `decode(${source}->>${quoteLiteral(column)}, 'base64')`;
  }
  return `${row}.${name}`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const events = "json_array_elements($1::json) AS e(v)";

/** The events' `data` as records of the table's row type: json_populate_record casts each field. */
function dataRecord(table: string): string {
  return `json_populate_record(NULL::${table}, e.v->'data') AS r`;
}

/** INSERT (insert) or INSERT ... ON CONFLICT (key) DO UPDATE (upsert) of the run's rows. */
export function writeStatement(info: TableInfo, run: Run): string {
  const table = qualifiedName(info.table);
  const columns = run.columns.map(quoteIdentifier).join(", ");
  const values = run.columns
    .map((column) => valueExpression(info, column, "e.v->'data'", "r"))
    .join(", ");
  const insert = `INSERT INTO ${table} (${columns}) SELECT ${values} FROM ${events} CROSS JOIN LATERAL ${dataRecord(table)}`;
  if (run.action === "insert") return insert;
  const key = run.key.map(quoteIdentifier).join(", ");
  const updated = run.columns.filter((column) => !run.key.includes(column));
  if (updated.length === 0) return `${insert} ON CONFLICT (${key}) DO NOTHING`;
  const assignments = updated
    .map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`)
    .join(", ");
  return `${insert} ON CONFLICT (${key}) DO UPDATE SET ${assignments}`;
}

function keyMatch(info: TableInfo, key: string[], source: string, row: string): string {
  const table = qualifiedName(info.table);
  return key
    .map(
      (column) =>
        `${table}.${quoteIdentifier(column)} = ${valueExpression(info, column, source, row)}`,
    )
    .join(" AND ");
}

/** Deletes the rows the events name: by metadata.before when it is an object, else by data. */
export function deleteStatement(info: TableInfo, run: Run): string {
  const table = qualifiedName(info.table);
  const source = `(CASE WHEN json_typeof(e.v->'metadata'->'before') = 'object' THEN e.v->'metadata'->'before' ELSE e.v->'data' END)`;
  return `DELETE FROM ${table} USING ${events} CROSS JOIN LATERAL json_populate_record(NULL::${table}, ${source}) AS b WHERE ${keyMatch(info, run.key, source, "b")}`;
}

/** Updates that moved a row to a new key: the row under the old key (metadata.before) goes first. */
export function rekeyStatement(info: TableInfo, run: Run): string {
  const table = qualifiedName(info.table);
  const before = "e.v->'metadata'->'before'";
  const oldKey = run.key.map((column) => valueExpression(info, column, before, "b")).join(", ");
  const newKey = run.key
    .map((column) => valueExpression(info, column, "e.v->'data'", "r"))
    .join(", ");
  return `DELETE FROM ${table} USING ${events} CROSS JOIN LATERAL json_populate_record(NULL::${table}, ${before}) AS b CROSS JOIN LATERAL ${dataRecord(table)} WHERE ${keyMatch(info, run.key, before, "b")} AND ROW(${oldKey}) IS DISTINCT FROM ROW(${newKey})`;
}

/**
 * Updates that moved a row to a new key, as UPDATEs of the row under the old key (so a foreign
 * key's ON UPDATE CASCADE on the replica moves its children). Skipped when a row under the new key
 * exists already (a replay): the DELETE of the old key and the upsert that follow finish the move.
 */
export function moveStatement(info: TableInfo, run: Run): string {
  const table = qualifiedName(info.table);
  const before = "e.v->'metadata'->'before'";
  const assignments = run.columns
    .map(
      (column) =>
        `${quoteIdentifier(column)} = ${valueExpression(info, column, "e.v->'data'", "r")}`,
    )
    .join(", ");
  const newKeyMatch = run.key
    .map(
      (column) =>
        `moved.${quoteIdentifier(column)} = ${valueExpression(info, column, "e.v->'data'", "r")}`,
    )
    .join(" AND ");
  return `UPDATE ${table} SET ${assignments} FROM ${events} CROSS JOIN LATERAL json_populate_record(NULL::${table}, ${before}) AS b CROSS JOIN LATERAL ${dataRecord(table)} WHERE ${keyMatch(info, run.key, before, "b")} AND NOT EXISTS (SELECT FROM ${table} AS moved WHERE ${newKeyMatch})`;
}

/** One TRUNCATE of every table the source truncated in one statement, with its options. */
export function truncateStatement(
  infos: TableInfo[],
  options: { cascade: boolean; restartIdentity: boolean },
): string {
  const tables = infos.map((info) => qualifiedName(info.table)).join(", ");
  const identity = options.restartIdentity ? " RESTART IDENTITY" : "";
  return `TRUNCATE ${tables}${identity}${options.cascade ? " CASCADE" : ""}`;
}

/** The DDL `dstream init` runs: the declared columns, and the key as primary key when given. */
export function createTableStatement(
  info: Pick<TableInfo, "table">,
  columns: Record<string, string>,
  key: string[] | undefined,
): string {
  const definitions = Object.entries(columns).map(
    ([column, type]) => `${quoteIdentifier(column)} ${type}`,
  );
  if (key && key.length > 0) {
    definitions.push(`PRIMARY KEY (${key.map(quoteIdentifier).join(", ")})`);
  }
  return `CREATE TABLE ${qualifiedName(info.table)} (${definitions.join(", ")})`;
}

const comma = Buffer.from(",");

/** The JSON array parameter of a statement: the events' lines, as received, between [ and ]. */
export function eventsParameter(lines: readonly Uint8Array[], indexes: readonly number[]): Buffer {
  const parts: Uint8Array[] = [Buffer.from("[")];
  indexes.forEach((index, position) => {
    if (position > 0) parts.push(comma);
    parts.push(lines[index] as Uint8Array);
  });
  parts.push(Buffer.from("]"));
  return Buffer.concat(parts);
}
