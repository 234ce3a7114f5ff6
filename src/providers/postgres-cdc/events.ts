// Event lines as text: {"data":{row},"metadata":{...}} built column by column, so every value keeps
// the JSON text values.ts gave it (JSON.stringify would round int8 and numeric).
import { type ColumnValue, UNCHANGED_TOAST } from "./pgoutput.ts";
import type { ColumnType } from "./values.ts";
import { valueJson } from "./values.ts";

export interface ColumnShape {
  name: string;
  /** `"name":`, ready to concatenate. */
  prefix: string;
  type: ColumnType;
  isKey: boolean;
}

/** A captured table as events name it. */
export interface TableShape {
  /** "public.orders" as JSON text. */
  nameJson: string;
  /** The key columns (primary key, else the replica identity's) as a JSON array, or "" for none. */
  keyJson: string;
  columns: ColumnShape[];
}

export function columnShape(name: string, type: ColumnType, isKey: boolean): ColumnShape {
  return { name, prefix: `${JSON.stringify(name)}:`, type, isKey };
}

export function tableShape(
  schema: string,
  table: string,
  columns: ColumnShape[],
  keyColumns: string[],
): TableShape {
  return {
    nameJson: JSON.stringify(`${schema}.${table}`),
    keyJson: keyColumns.length > 0 ? JSON.stringify(keyColumns) : "",
    columns,
  };
}

export interface RowText {
  json: string;
  /** Columns left out because their TOASTed value did not change (pgoutput 'u'). */
  unchanged: string[];
}

/** A tuple as a JSON object; `keysOnly` keeps the replica identity columns (an old key). */
export function rowJson(columns: ColumnShape[], values: ColumnValue[], keysOnly = false): RowText {
  let json = "{";
  const unchanged: string[] = [];
  const count = Math.min(columns.length, values.length);
  for (let index = 0; index < count; index++) {
    const column = columns[index] as ColumnShape;
    if (keysOnly && !column.isKey) continue;
    const value = values[index];
    if (value === UNCHANGED_TOAST) {
      unchanged.push(column.name);
      continue;
    }
    if (json.length > 1) json += ",";
    json += column.prefix;
    json += value === null || value === undefined ? "null" : valueJson(value, column.type);
  }
  return { json: `${json}}`, unchanged };
}

export type Operation = "insert" | "update" | "delete" | "truncate";

/** Where a change's transaction sits in the stream: the same for each of its changes. */
export interface ChangeOrigin {
  commitLsn: string;
  txid: number;
  commitTime: string;
}

export interface ChangeEvent {
  table: TableShape;
  operation: Operation;
  sequence: number;
  /** The row's JSON, or "null" (truncate). */
  data: string;
  before?: string | undefined;
  unchanged?: string[] | undefined;
  extra?: string | undefined;
}

function metadataTail(event: ChangeEvent): string {
  let tail = event.table.keyJson ? `,"key":${event.table.keyJson}` : "";
  if (event.before !== undefined) tail += `,"before":${event.before}`;
  if (event.unchanged && event.unchanged.length > 0) {
    tail += `,"unchanged_toast":${JSON.stringify(event.unchanged)}`;
  }
  if (event.extra) tail += event.extra;
  return tail;
}

/** One streamed change at WAL position `lsn` as a JSON line (newline included). */
export function changeLine(event: ChangeEvent, lsn: string, origin: ChangeOrigin): string {
  return `{"data":${event.data},"metadata":{"table":${event.table.nameJson},"operation":"${event.operation}","lsn":"${lsn}","commit_lsn":"${origin.commitLsn}","sequence":${event.sequence},"txid":${origin.txid},"commit_time":"${origin.commitTime}","source":"postgres-cdc"${metadataTail(event)}}}\n`;
}

/** One snapshot row as a JSON line: an insert with snapshot = true at the snapshot's LSN. */
export function snapshotLine(
  table: TableShape,
  row: string,
  sequence: number,
  lsn: string,
): string {
  const key = table.keyJson ? `,"key":${table.keyJson}` : "";
  return `{"data":${row},"metadata":{"table":${table.nameJson},"operation":"insert","lsn":"${lsn}","sequence":${sequence},"source":"postgres-cdc","snapshot":true${key}}}\n`;
}
