// Turns a batch of events into runs: consecutive events that one SQL statement can apply at once
// (same table, same action, same columns, no key twice), in the order the events came.
import type { Batch } from "../../sdk/index.ts";
import { EventError } from "./errors.ts";
import type { TableInfo } from "./tables.ts";

export type Mode = "insert" | "upsert" | "replicate";
export type Action = "insert" | "upsert" | "delete" | "truncate";

/** One event as the planner needs it; values stay in the line for the server to read exactly. */
export interface PlannedEvent {
  /** Position of the line in its batch. */
  index: number;
  /** The table named by the config (insert, upsert) or by metadata.table (replicate). */
  table: string;
  action: Action;
  data: Record<string, unknown> | undefined;
  /** metadata.before when it is an object (replicate: the old key or row). */
  before: Record<string, unknown> | undefined;
  /** metadata.sequence, or the line's number when the event has none: what messages name. */
  sequence: string;
  /** metadata.unchanged_toast: columns the source left out of an update, unchanged. */
  unchanged: string[];
  /** A truncate's options, and its LSN: postgres-cdc writes one event per table of one TRUNCATE. */
  truncate?: TruncateOptions & { lsn: string };
}

export interface TruncateOptions {
  cascade: boolean;
  restartIdentity: boolean;
}

export interface Run {
  table: string;
  action: Action;
  /** Columns the statement writes (insert, upsert): the keys of the events' data. */
  columns: string[];
  /** Key columns an upsert matches on, or a delete deletes by. */
  key: string[];
  /** Batch line positions of the events, in order. */
  indexes: number[];
  /** Positions of updates that move their row to a new key (metadata.before holds the old one). */
  rekeys: number[];
  /** A truncate: every table of the source's one TRUNCATE statement, truncated in one statement. */
  truncate?: TruncateOptions & { lsn: string; tables: string[] };
}

const operations: Record<string, Action> = {
  insert: "upsert",
  update: "upsert",
  delete: "delete",
  truncate: "truncate",
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the batch's events (JSON.parse only to learn keys and metadata; values are not reused). */
export function readEvents(batch: Batch, mode: Mode, table: string | undefined): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  for (let index = 0; index < batch.size; index++) {
    const envelope = batch.envelope(index) as unknown;
    const metadata = isObject(envelope) && isObject(envelope.metadata) ? envelope.metadata : {};
    const sequence =
      typeof metadata.sequence === "number" || typeof metadata.sequence === "string"
        ? `sequence ${metadata.sequence}`
        : `line ${batch.firstLineNumber + index}`;
    const data = isObject(envelope) ? envelope.data : undefined;
    let action: Action = mode === "insert" ? "insert" : "upsert";
    let eventTable = table;
    if (mode === "replicate") {
      const operation = String(metadata.operation ?? "");
      const replicated = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      if (!replicated) {
        throw new EventError(
          `postgres: event ${sequence}: metadata.operation ${JSON.stringify(metadata.operation ?? null)} is not insert, update, delete or truncate`,
        );
      }
      action = replicated;
      if (typeof metadata.table !== "string" || metadata.table === "") {
        throw new EventError(
          `postgres: event ${sequence}: metadata.table is missing (replicate applies postgres-cdc events)`,
        );
      }
      eventTable = metadata.table;
    }
    if (
      action !== "truncate" &&
      !isObject(data) &&
      !(action === "delete" && isObject(metadata.before))
    ) {
      throw new EventError(`postgres: event ${sequence}: data must be an object of column values`);
    }
    events.push({
      index,
      table: eventTable as string,
      action,
      data: isObject(data) ? data : undefined,
      before: isObject(metadata.before) ? metadata.before : undefined,
      sequence,
      unchanged: Array.isArray(metadata.unchanged_toast)
        ? metadata.unchanged_toast.filter((column): column is string => typeof column === "string")
        : [],
      ...(action === "truncate"
        ? {
            truncate: {
              lsn: typeof metadata.lsn === "string" ? metadata.lsn : "",
              cascade: metadata.cascade === true,
              restartIdentity: metadata.restart_identity === true,
            },
          }
        : {}),
    });
  }
  return events;
}

function keySignature(values: Record<string, unknown>, key: string[]): string {
  return JSON.stringify(key.map((column) => values[column]));
}

function hasKey(values: Record<string, unknown> | undefined, key: string[]): boolean {
  return values !== undefined && key.every((column) => values[column] !== undefined);
}

function requireKey(
  values: Record<string, unknown> | undefined,
  key: string[],
  display: string,
  event: PlannedEvent,
): void {
  const missing = key.find((column) => values?.[column] === undefined);
  if (missing !== undefined) {
    throw new EventError(
      `postgres: table ${display}, column "${missing}", event ${event.sequence}: the event has no value for this key column`,
    );
  }
}

function columnsOf(event: PlannedEvent, info: TableInfo, display: string): string[] {
  const columns = Object.keys(event.data ?? {}).filter((column) => !info.generated.has(column));
  if (columns.length === 0) {
    throw new EventError(
      `postgres: table ${display}, event ${event.sequence}: data has no columns`,
    );
  }
  for (const column of columns) {
    if (!info.columns.has(column)) {
      throw new EventError(
        `postgres: table ${display}, column "${column}", event ${event.sequence}: the table has no such column`,
      );
    }
  }
  return columns;
}

/** The key an event's table is matched on: upsert's `key` setting, else the primary key. */
export type KeyOf = (info: TableInfo, display: string) => string[];

/**
 * The key's values as a string that equals another exactly when the keys are equal; undefined
 * when a number is past what a double holds exactly (or a value is an object).
 */
export function exactKey(
  values: Record<string, unknown> | undefined,
  key: string[],
): string | undefined {
  if (!values) return undefined;
  const parts: unknown[] = [];
  for (const column of key) {
    const value = values[column];
    if (typeof value === "number" && !Number.isSafeInteger(value)) return undefined;
    if (typeof value === "object" && value !== null) return undefined;
    parts.push(value);
  }
  return JSON.stringify(parts);
}

/** An update that moves its row: metadata.before holds a key that differs (or may: not exact). */
function movesRow(event: PlannedEvent, key: string[]): boolean {
  if (event.action !== "upsert" || !hasKey(event.before, key)) return false;
  const oldKey = exactKey(event.before, key);
  return oldKey === undefined || oldKey !== exactKey(event.data, key);
}

/** Consecutive truncates of one source TRUNCATE (same LSN and options) are one statement. */
function sameTruncate(run: Run | undefined, event: PlannedEvent): boolean {
  const truncate = event.truncate;
  return (
    run?.truncate !== undefined &&
    truncate !== undefined &&
    truncate.lsn !== "" &&
    run.truncate.lsn === truncate.lsn &&
    run.truncate.cascade === truncate.cascade &&
    run.truncate.restartIdentity === truncate.restartIdentity
  );
}

/**
 * Groups events into runs, in stream order. A run ends where the table, action or column set
 * changes, and where a key comes again (ON CONFLICT cannot touch one row twice in a statement).
 * A truncate is a run of its own, joined by the other tables of the same source TRUNCATE.
 */
export function planRuns(
  events: PlannedEvent[],
  tableOf: (name: string) => { info: TableInfo; display: string },
  keyOf: KeyOf,
): Run[] {
  const runs: Run[] = [];
  let run: Run | undefined;
  let signature = "";
  let keys = new Set<string>();
  for (const event of events) {
    const { info, display } = tableOf(event.table);
    if (event.action === "truncate") {
      if (run && sameTruncate(run, event)) {
        if (!run.truncate?.tables.includes(event.table)) run.truncate?.tables.push(event.table);
        run.indexes.push(event.index);
        continue;
      }
      const options = event.truncate ?? { lsn: "", cascade: false, restartIdentity: false };
      run = {
        table: event.table,
        action: "truncate",
        columns: [],
        key: [],
        indexes: [event.index],
        rekeys: [],
        truncate: { ...options, tables: [event.table] },
      };
      runs.push(run);
      signature = "";
      continue;
    }
    const columns =
      event.action === "insert" || event.action === "upsert" ? columnsOf(event, info, display) : [];
    const key = event.action === "insert" ? [] : keyOf(info, display);
    if (event.action === "upsert") requireKey(event.data, key, display, event);
    if (event.action === "delete") requireKey(event.before ?? event.data, key, display, event);
    const eventSignature = `${event.table}\u0000${event.action}\u0000${columns.join("\u0000")}`;
    const rowKey = event.action === "upsert" ? keySignature(event.data ?? {}, key) : "";
    const moves = movesRow(event, key);
    const oldKey = moves ? keySignature(event.before ?? {}, key) : "";
    if (moves && event.unchanged.length > 0) {
      // A key change moves the row: a column the source left out (unchanged TOAST) has no value
      // to move with it, and the new row would get NULL there. Refused, never guessed.
      throw new EventError(
        `postgres: table ${display}, column "${event.unchanged[0]}", event ${event.sequence}: the update changes the row's key but the event does not carry this unchanged (TOASTed) column, so the moved row cannot be written whole; set REPLICA IDENTITY FULL on the source table (postgres-cdc then fills it from the old row)`,
      );
    }
    const repeated =
      event.action === "upsert" && (keys.has(rowKey) || (oldKey !== "" && keys.has(oldKey)));
    if (!run || signature !== eventSignature || repeated) {
      run = { table: event.table, action: event.action, columns, key, indexes: [], rekeys: [] };
      runs.push(run);
      signature = eventSignature;
      keys = new Set();
    }
    run.indexes.push(event.index);
    if (moves) run.rekeys.push(event.index);
    if (rowKey !== "") keys.add(rowKey);
    if (oldKey !== "") keys.add(oldKey);
  }
  return runs;
}
