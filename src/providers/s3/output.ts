// s3 output: events become Parquet or JSON-lines objects under bucket/prefix, named by the first
// event they hold (a replay overwrites), rolled by rows, bytes, age, date folder and widening; the
// SDK acknowledges a checkpoint once the lines before it are in completed objects (durableLines).
import type { Batch } from "../../sdk/batch.ts";
import { defineOutput } from "../../sdk/index.ts";
import { connect, probe, type S3Target } from "./client.ts";
import { Columns } from "./columns.ts";
import { s3Lifecycle } from "./lifecycle.ts";
import { extension, objectName, utcDay } from "./naming.ts";
import { type Compressor, JsonlObject, ParquetObject, type Row, Upload } from "./objects.ts";
import { durationMs, type S3OutputConfig, s3OutputConfigSchema } from "./schema.ts";
import { NumberText, needsExactParse, parseColumnType, parseExact } from "./types.ts";

export { s3OutputConfigSchema };

const utf8 = new TextDecoder();

/** Columns are inferred from an object's first rows, this many at most (or one row group). */
export const inferRows = 1000;

const compressors: Record<string, Compressor> = {
  ZSTD: (bytes) => Bun.zstdCompressSync(bytes),
};

interface OpenObject {
  body: ParquetObject | JsonlObject;
  key: string;
}

interface Parsed {
  data: unknown;
  metadata: Record<string, unknown>;
}

export class S3Sink {
  readonly #config: S3OutputConfig;
  readonly #target: S3Target;
  readonly #maxAgeMs: number;
  readonly #decimals: boolean;
  #object: OpenObject | undefined;
  /** Parquet: the columns (kept for the whole run), and rows waiting to fix an object's columns. */
  readonly #columns: Columns;
  #waiting: Row[] = [];
  #waitingFirst: unknown;
  /** What the object being made holds (open, or rows waiting): its date folder, rows and bytes. */
  #folderOfCurrent: string | undefined;
  #rows = 0;
  #bytes = 0;
  /** Lines taken into objects so far, and how many of them are in completed objects. */
  #received = 0;
  #durable = 0;
  #ageTimer: ReturnType<typeof setTimeout> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #fallbackNames = 0;
  readonly #log: (message: string) => void;
  /** Keys completed so far, in order (close() logs how many). */
  readonly completed: string[] = [];

  constructor(config: S3OutputConfig, target: S3Target, log: (message: string) => void) {
    this.#config = config;
    this.#target = target;
    this.#log = log;
    this.#maxAgeMs = durationMs(config.max_age);
    this.#columns = config.schema
      ? Columns.declare(
          new Map(
            Object.entries(config.schema).map(([name, text]) => [name, parseColumnType(text)]),
          ),
        )
      : new Columns(false);
    this.#decimals = [...this.#columns.types.values()].some((type) => type.kind === "decimal");
  }

  /** Runs operations one at a time (the age timer is the only one not awaited by the SDK). */
  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue
      .then(() => {
        if (this.#failure) throw this.#failure;
        return operation();
      })
      .catch((error: Error) => {
        // After a failure nothing more is completed: close() must not publish a partial object.
        this.#failure ??= error;
        throw error;
      });
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  write(batch: Batch): Promise<void> {
    return this.#serial(async () => {
      for (let index = 0; index < batch.size; index++) {
        const line = batch.lines[index] as Uint8Array;
        await this.#add(line, batch.firstLineNumber + index);
      }
    });
  }

  /** Lines given so far that are in completed objects: the SDK acknowledges checkpoints up to them. */
  durableLines(): number {
    return this.#durable;
  }

  close(): Promise<void> {
    if (this.#failure) {
      clearTimeout(this.#ageTimer);
      return Promise.resolve();
    }
    return this.#serial(async () => {
      await this.#finish();
      clearTimeout(this.#ageTimer);
      this.#log(`s3: wrote ${this.completed.length} object(s) to ${this.#target.where}`);
    });
  }

  #parse(line: Uint8Array, lineNumber: number): Parsed {
    const text = utf8.decode(line);
    let envelope: unknown;
    try {
      envelope = needsExactParse(text, this.#decimals) ? parseExact(text) : JSON.parse(text);
    } catch {
      throw new Error(`s3: line ${lineNumber} is not valid JSON`);
    }
    if (typeof envelope !== "object" || envelope === null || !("data" in envelope))
      throw new Error(`s3: line ${lineNumber} is not an event ({"data": ...})`);
    const { data, metadata } = envelope as { data: unknown; metadata?: unknown };
    return {
      data,
      metadata:
        typeof metadata === "object" && metadata !== null
          ? (metadata as Record<string, unknown>)
          : {},
    };
  }

  #where(parsed: Parsed, lineNumber: number): string {
    const sequence = parsed.metadata.sequence;
    return sequence === undefined
      ? `line ${lineNumber}`
      : `sequence ${sequence instanceof NumberText ? sequence.text : JSON.stringify(sequence)}`;
  }

  #folder(parsed: Parsed, lineNumber: number): string {
    const { partition, time_field } = this.#config;
    if (partition === "none") return "";
    if (partition === "write_time") return `dt=${new Date().toISOString().slice(0, 10)}/`;
    const data = parsed.data as Record<string, unknown> | null;
    const day = utcDay(typeof data === "object" && data ? data[time_field as string] : undefined);
    if (!day)
      throw new Error(
        `s3: ${this.#where(parsed, lineNumber)} has no time in data field "${time_field}" (RFC 3339 or epoch ms) for partition = "event_time"`,
      );
    return `dt=${day}/`;
  }

  async #add(line: Uint8Array, lineNumber: number): Promise<void> {
    const parsed = this.#parse(line, lineNumber);
    const folder = this.#folder(parsed, lineNumber);
    if (this.#folderOfCurrent !== undefined && this.#folderOfCurrent !== folder)
      await this.#finish();
    if (this.#config.format === "jsonl") {
      this.#object ??= this.#open(folder, this.#name(parsed.metadata.sequence));
      await (this.#object.body as JsonlObject).add(line);
    } else {
      await this.#addRow(parsed, lineNumber, folder);
    }
    this.#folderOfCurrent = folder;
    this.#received++;
    this.#rows++;
    this.#bytes += line.length + 1;
    if (this.#rows >= this.#config.max_rows || this.#bytes >= this.#config.max_bytes)
      await this.#finish();
  }

  /** The row's columns: data fields, then the metadata columns (a data field by their name is an error). */
  #values(parsed: Parsed, where: string): Record<string, unknown> {
    if (typeof parsed.data !== "object" || parsed.data === null || Array.isArray(parsed.data))
      throw new Error(
        `s3: ${where}: data is not an object; parquet columns are its fields (use format = "jsonl" for other values)`,
      );
    const values: Record<string, unknown> = { ...(parsed.data as Record<string, unknown>) };
    for (const field of this.#config.metadata_columns) {
      const column = `metadata_${field}`;
      if (column in values)
        throw new Error(
          `s3: field "${column}" at ${where} has the name of the column metadata_columns makes for "${field}" (rename the field, or take "${field}" out of metadata_columns)`,
        );
      values[column] = parsed.metadata[field] ?? null;
    }
    // An event with no fields is an all-null row; with no column known yet there is no row to make.
    if (this.#columns.size === 0 && Object.keys(values).length === 0)
      throw new Error(
        `s3: ${where}: data has no fields and no column is known yet, so it cannot be a Parquet row (send it after events with fields, add metadata_columns, declare a schema block, or use format = "jsonl")`,
      );
    return values;
  }

  async #addRow(parsed: Parsed, lineNumber: number, folder: string): Promise<void> {
    const where = this.#where(parsed, lineNumber);
    const values = this.#values(parsed, where);
    const row: Row = { values, where };

    if (this.#columns.declared) {
      for (const field of Object.keys(values)) {
        if (!this.#columns.types.has(field))
          throw new Error(
            `s3: field "${field}" at ${where} is not in the schema block (add it, or leave schema out to infer columns)`,
          );
      }
      this.#object ??= this.#openParquet(folder, this.#name(parsed.metadata.sequence));
      await (this.#object.body as ParquetObject).add(row);
      return;
    }

    if (this.#object) {
      // Columns are fixed: a row that brings a field or a type they lack starts a new object.
      if (this.#columns.fit(values, where)) {
        await (this.#object.body as ParquetObject).add({
          values: this.#columns.coerce(values),
          where,
        });
        return;
      }
      await this.#finish();
      this.#log(`s3: ${where} widens the columns: a new object starts with it`);
      this.#folderOfCurrent = folder;
    }
    // No object yet: rows wait (up to one row group) so the columns come from all of them, starting
    // from the columns of the objects before (a field keeps its type from object to object).
    if (this.#waiting.length === 0) {
      this.#waitingFirst = parsed.metadata.sequence;
      this.#startAgeTimer();
    }
    this.#columns.merge(values, where);
    this.#waiting.push(row);
    if (this.#waiting.length >= Math.min(this.#config.row_group_rows, inferRows))
      await this.#openWaiting(folder);
  }

  async #openWaiting(folder: string): Promise<void> {
    const rows = this.#waiting;
    this.#waiting = [];
    const object = this.#openParquet(folder, this.#name(this.#waitingFirst));
    this.#object = object;
    for (const row of rows)
      await (object.body as ParquetObject).add({
        values: this.#columns.coerce(row.values),
        where: row.where,
      });
  }

  #name(sequence: unknown): string {
    const fromSequence = objectName(sequence);
    if (fromSequence) return fromSequence;
    if (this.#fallbackNames++ === 0)
      this.#log(
        "s3: events carry no metadata.sequence: objects are named by write time, so a replay after a crash may add duplicates",
      );
    return `t${new Date().toISOString().replace(/[-:.]/g, "")}-${process.pid}-${this.#fallbackNames}`;
  }

  #key(folder: string, name: string): string {
    return `${this.#config.prefix}${folder}${name}${extension(this.#config)}`;
  }

  #open(folder: string, name: string): OpenObject {
    const key = this.#key(folder, name);
    const compression = this.#config.compression ?? "gzip";
    const upload = new Upload(
      this.#target,
      key,
      this.#config.part_size,
      compression === "none" ? "application/x-ndjson" : "application/octet-stream",
    );
    this.#startAgeTimer();
    return { body: new JsonlObject(upload, compression === "snappy" ? "none" : compression), key };
  }

  #openParquet(folder: string, name: string): OpenObject {
    const key = this.#key(folder, name);
    const upload = new Upload(
      this.#target,
      key,
      this.#config.part_size,
      "application/vnd.apache.parquet",
    );
    const compression = this.#config.compression ?? "snappy";
    const codec =
      compression === "zstd" ? "ZSTD" : compression === "none" ? "UNCOMPRESSED" : "SNAPPY";
    this.#startAgeTimer();
    const body = new ParquetObject(
      upload,
      this.#columns.types,
      codec,
      compressors,
      this.#config.row_group_rows,
    );
    return { body, key };
  }

  #startAgeTimer(): void {
    if (this.#ageTimer) return;
    this.#ageTimer = setTimeout(() => {
      this.#ageTimer = undefined;
      this.#serial(() => this.#finish()).catch((error: Error) => {
        this.#failure ??= error;
      });
    }, this.#maxAgeMs);
    this.#ageTimer.unref?.();
  }

  /** Completes the open object (and first writes the rows still waiting to fix columns). */
  async #finish(): Promise<void> {
    if (!this.#object && this.#waiting.length > 0)
      await this.#openWaiting(this.#folderOfCurrent ?? "");
    // After opening: opening starts an age timer, which must not outlive this object.
    clearTimeout(this.#ageTimer);
    this.#ageTimer = undefined;
    const object = this.#object;
    this.#object = undefined;
    this.#folderOfCurrent = undefined;
    this.#rows = 0;
    this.#bytes = 0;
    if (!object) return;
    await object.body.complete();
    this.completed.push(object.key);
    this.#durable = this.#received;
  }
}

export const s3Output = defineOutput({
  schema: s3OutputConfigSchema,
  ...s3Lifecycle,
  batch: { maxLines: 5000, maxBytes: 4 * 1024 * 1024 },
  async open(context) {
    const target = connect(context.config);
    await probe(target);
    const sink = new S3Sink(context.config, target, (message) => context.log(message));
    return {
      write: (batch) => sink.write(batch),
      durableLines: () => sink.durableLines(),
      close: () => sink.close(),
    };
  },
});
