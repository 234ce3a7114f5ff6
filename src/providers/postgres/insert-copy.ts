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

/** ByteBuilders to reuse: one per batch converted and not yet written, given back after its COPY. */
export class CopyBuffers {
  readonly #free: ByteBuilder[] = [];

  take(): ByteBuilder {
    const builder = this.#free.pop() ?? new ByteBuilder();
    builder.reset();
    return builder;
  }

  give(builder: ByteBuilder): void {
    this.#free.push(builder);
  }
}

/**
 * Rows added one line at a time, as COPY runs (one per stretch of events with the same columns):
 * what the insert and upsert fast paths send. Values for the table's generated columns are left
 * out. With `numbered`, each row starts with its line's position in the batch (the stage's position
 * column). The runs' data are views into `out`: it must not be reused before they are written.
 */
export class CopyRunBuilder {
  readonly #runs: CopyRun[] = [];
  readonly #row: ScannedRow = { names: [], starts: [], ends: [], keys: [] };
  #runStart: number;
  #names: string[] | undefined;
  #columns: string[] = [];
  #kinds: (ColumnKind | undefined)[] = [];
  #position = 0;
  #failed = false;

  constructor(
    private readonly info: TableInfo,
    private readonly key: readonly string[] = [],
    private readonly numbered = false,
    readonly out: ByteBuilder = new ByteBuilder(),
  ) {
    this.#runStart = out.length;
  }

  /**
   * Adds the event line[start, end) as a row; false, from then on, once a line needs the general
   * path (odd JSON, an unknown column, a key column missing): the batch is written the JSON way.
   */
  add(line: Uint8Array, start = 0, end = line.length): boolean {
    if (this.#failed) return false;
    try {
      this.#add(line, start, end);
      return true;
    } catch {
      // Whatever the scan refused (a string escape JSON.parse refuses too): the general path
      // reads the line again and names what is wrong with it.
      this.#failed = true;
      return false;
    }
  }

  /** The runs, or undefined when a line needs the general path. */
  finish(): CopyRun[] | undefined {
    if (this.#failed) return undefined;
    if (this.#names) {
      this.#runs.push({ columns: this.#columns, data: this.out.since(this.#runStart) });
      this.#names = undefined;
    }
    return this.#runs;
  }

  #add(line: Uint8Array, start: number, end: number): void {
    const { info, out } = this;
    const row = this.#row;
    scanData(line, row, start, end);
    if (!this.#names || !sameNames(this.#names, row.names)) {
      const written = row.names.filter((name) => !info.generated.has(name));
      if (written.length === 0 || written.some((name) => !info.columns.has(name))) {
        throw new UnscannableLine("unknown columns");
      }
      if (this.key.some((column) => !written.includes(column))) {
        throw new UnscannableLine("a key column missing");
      }
      if (new Set(row.names).size !== row.names.length) throw new UnscannableLine("a name twice");
      if (this.#names) this.#runs.push({ columns: this.#columns, data: out.since(this.#runStart) });
      this.#runStart = out.length;
      this.#names = [...row.names];
      this.#columns = written;
      // undefined: a generated column's value, skipped.
      this.#kinds = this.#names.map((name) =>
        info.generated.has(name) ? undefined : columnKind(info.columns.get(name)),
      );
    }
    const kinds = this.#kinds;
    let first = true;
    if (this.numbered) {
      out.decimal(this.#position);
      first = false;
    }
    this.#position++;
    for (let field = 0; field < row.names.length; field++) {
      const kind = kinds[field];
      if (kind === undefined) continue;
      if (!first) out.push(0x09);
      first = false;
      appendField(out, line, row.starts[field] as number, row.ends[field] as number, kind);
    }
    out.push(0x0a);
  }
}

/** The batch as COPY runs (see CopyRunBuilder), or undefined when a line needs the general path. */
export function copyRuns(
  lines: readonly Uint8Array[],
  info: TableInfo,
  key: readonly string[] = [],
  numbered = false,
  out: ByteBuilder = new ByteBuilder(),
): CopyRun[] | undefined {
  const builder = new CopyRunBuilder(info, key, numbered, out);
  for (const line of lines) {
    if (!builder.add(line)) return undefined;
  }
  return builder.finish();
}

/** The stage's column holding each row's position in its batch: the last of a key wins. */
const positionColumn = quoteIdentifier("dstream position");

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
        `CREATE TEMP TABLE IF NOT EXISTS ${name} ON COMMIT DELETE ROWS AS SELECT 0::bigint AS ${positionColumn}, * FROM ${table} WITH NO DATA`,
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
    const list = [positionColumn, ...run.columns.map(quoteIdentifier)].join(", ");
    await copyIn(client, `${stage} (${list})`, run.data);
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
  buffers: CopyBuffers,
  info: TableInfo,
  lines: readonly Uint8Array[],
  key: string[],
): Promise<boolean> {
  const buffer = buffers.take();
  try {
    const runs = copyRuns(lines, info, key, true, buffer);
    if (!runs) return false;
    await upsertThroughStage(client, stages, info, runs, key);
    return true;
  } finally {
    buffers.give(buffer);
  }
}

function upsertFromStage(info: TableInfo, stage: string, columns: string[], key: string[]): string {
  const list = columns.map(quoteIdentifier).join(", ");
  const keyList = key.map(quoteIdentifier).join(", ");
  const updated = columns.filter((column) => !key.includes(column));
  const action =
    updated.length === 0
      ? "DO NOTHING"
      : `DO UPDATE SET ${updated.map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`).join(", ")}`;
  // The last event of a key wins: each staged row holds its event's position in the batch.
  return `INSERT INTO ${qualifiedName(info.table)} (${list}) SELECT DISTINCT ON (${keyList}) ${list} FROM ${stage} ORDER BY ${keyList}, ${positionColumn} DESC ON CONFLICT (${keyList}) ${action}`;
}

/** Writes a batch's COPY runs (copyRuns) in one transaction (upsert: through the stages, by `key`). */
export async function applyCopyRuns(
  client: pg.Client,
  info: TableInfo,
  runs: CopyRun[],
  upsert?: { stages: UpsertStages; key: string[] },
): Promise<void> {
  if (!upsert && runs.length === 1) {
    // One COPY is a transaction of its own: no BEGIN and COMMIT round trips.
    const run = runs[0] as CopyRun;
    await copyIn(
      client,
      `${qualifiedName(info.table)} (${run.columns.map(quoteIdentifier).join(", ")})`,
      run.data,
    );
    return;
  }
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
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    upsert?.stages.forget();
    throw error;
  }
}
