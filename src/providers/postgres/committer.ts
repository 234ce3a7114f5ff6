// Batches gathered to the postgres output's limits (rows, bytes, wait) and committed one at a time:
// from the SDK's batches of lines (replicate), or straight from stdin's chunks (insert, upsert).
import { Batch } from "../../sdk/index.ts";
import { LineSplitter } from "../../sdk/line-splitter.ts";
import type { ByteBuilder } from "./copy-rows.ts";
import type { PostgresOutputConfig } from "./schema.ts";

/** Lines a raw chunk is converted in between turns of the event loop (see RawCommitter.write). */
const linesBetweenYields = 500;

type Limits = Pick<PostgresOutputConfig, "batch_rows" | "batch_bytes" | "batch_wait_ms">;

/**
 * Commits run one at a time, in order. A failed commit is reported by the next call, and no later
 * commit runs. A timer commits what is gathered once batch_wait_ms has passed.
 */
class CommitQueue {
  #queue: Promise<void> = Promise.resolve();
  #failure: unknown;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Lines (as the committer counts them) up to the end of the last batch committed. */
  #committedThrough = 0;
  #queued = 0;

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Queues `commit` (when given) of the batch ending at line `through` after the commits queued
   * before. Waits for "all" commits (a flush), or only for the "previous" one: the server works on
   * this batch while the next is read.
   */
  enqueue(
    commit: (() => Promise<void>) | undefined,
    through: number,
    wait: "all" | "previous",
  ): Promise<void> {
    this.disarm();
    const previous = this.#queue;
    if (commit) {
      this.#queued++;
      this.#queue = this.#queue.then(async () => {
        if (this.#failure !== undefined) return;
        try {
          await commit();
          this.#committedThrough = through;
          this.#queued--;
        } catch (error) {
          this.#failure = error;
        }
      });
    }
    return (wait === "all" ? this.#queue : previous).then(() => this.check());
  }

  /**
   * How many of the `given` lines are committed: all of them when none is gathered (`gathering`)
   * or on its way; else those up to the last batch committed. Throws the failure of a commit.
   */
  durable(given: number, gathering: boolean): number {
    // A failed commit fails the run from here too: the SDK asks while checkpoints wait, so an idle
    // input does not keep the failure unsaid.
    this.check();
    if (!gathering && this.#queued === 0) return given;
    return this.#committedThrough;
  }

  /** Calls `onTimer` after `ms` unless a timer is already set; a commit started by it reports later. */
  arm(ms: number, onTimer: () => Promise<void>): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      onTimer().catch(() => {});
    }, ms);
  }

  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Gathers the SDK's batches up to the settings' limits and commits them as one transaction: when
 * full, when batch_wait_ms has passed, and on flush. While one commit runs, the next batch is
 * gathered. It tells how many lines are committed (durableLines): the SDK acknowledges
 * checkpoints by it, never waiting for a flush, so the server has the next batch while data flows.
 */
export class Committer {
  #lines: Uint8Array[] = [];
  #bytes = 0;
  #firstLineNumber = 1;
  /** Lines given so far (the SDK's batch lines). */
  #linesGiven = 0;
  readonly #queue = new CommitQueue();

  constructor(
    private readonly config: Limits,
    private readonly commit: (batch: Batch) => Promise<void>,
  ) {}

  async add(batch: Batch): Promise<void> {
    this.#queue.check();
    const lines = batch.lines;
    if (
      this.#lines.length + lines.length < this.config.batch_rows &&
      this.#bytes + batch.bytes <= this.config.batch_bytes
    ) {
      // The whole batch fits (the common case): no per-line checks.
      if (this.#lines.length === 0) this.#firstLineNumber = batch.firstLineNumber;
      for (let index = 0; index < lines.length; index++)
        this.#lines.push(lines[index] as Uint8Array);
      this.#bytes += batch.bytes;
      this.#linesGiven += lines.length;
    } else {
      for (let index = 0; index < lines.length; index++) {
        const line = lines[index] as Uint8Array;
        if (this.#lines.length > 0 && this.#bytes + line.length > this.config.batch_bytes) {
          await this.#enqueue("previous");
        }
        if (this.#lines.length === 0) this.#firstLineNumber = batch.firstLineNumber + index;
        this.#lines.push(line);
        this.#bytes += line.length;
        this.#linesGiven++;
        if (this.#lines.length >= this.config.batch_rows) await this.#enqueue("previous");
      }
    }
    if (this.#lines.length > 0) {
      this.#queue.arm(this.config.batch_wait_ms, () => this.#enqueue("all"));
    }
  }

  /** Commits what is gathered and waits for every commit: everything written is durable after it. */
  flush(): Promise<void> {
    return this.#enqueue("all");
  }

  /** How many of the lines given are committed. */
  durableLines(): number {
    return this.#queue.durable(this.#linesGiven, this.#lines.length > 0);
  }

  #enqueue(wait: "all" | "previous"): Promise<void> {
    if (this.#lines.length === 0) return this.#queue.enqueue(undefined, this.#linesGiven, wait);
    const batch = new Batch(this.#lines, this.#firstLineNumber, this.#bytes);
    this.#lines = [];
    this.#bytes = 0;
    return this.#queue.enqueue(() => this.commit(batch), this.#linesGiven, wait);
  }

  dispose(): void {
    this.#queue.disarm();
  }
}

/** What a converter makes of the lines of one batch as they come (insert and upsert: COPY rows). */
export interface LineConverter<Converted> {
  /** Takes the event line[start, end); false once it gives up on the batch (the general path). */
  add(line: Uint8Array, start: number, end: number): boolean;
  finish(): Converted | undefined;
}

/** A batch gathered from stdin's chunks: its lines' bytes, copied, and what they converted to. */
export class RawBatch<Converted> {
  constructor(
    /** The lines, each ending in \n (empty lines too), as they came: a view into a builder. */
    readonly bytes: Uint8Array,
    readonly firstLineNumber: number,
    /** How many lines (empty lines not counted) and how many bytes (newlines not counted). */
    readonly size: number,
    readonly lineBytes: number,
    /** undefined when the converter gave up on a line of the batch. */
    readonly converted: Converted | undefined,
  ) {}

  /** The lines as the SDK's batch (views into `bytes`, empty lines skipped): the general path. */
  toBatch(): Batch {
    const lines: Uint8Array[] = [];
    const keep = (line: Uint8Array) => {
      if (line.length > 0) lines.push(line);
    };
    const splitter = new LineSplitter();
    splitter.push(this.bytes, keep);
    const last = splitter.end();
    if (last) keep(last);
    return new Batch(lines, this.firstLineNumber, this.lineBytes);
  }
}

/** The builders one gathered batch uses: given back once its commit is done. */
export interface RawBuffers {
  take(): ByteBuilder;
  give(builder: ByteBuilder): void;
}

/**
 * The committer of sinks that take stdin's chunks (writeRaw): each line is converted as it comes
 * (the server works on the previous batch meanwhile) and its bytes are copied into the batch's own
 * buffer, so no line needs an object of its own; limits, timer and order as for Committer. Line
 * numbers count the non-empty lines, as the SDK's batches do. It tells how many lines are
 * committed (durableLines): the SDK acknowledges checkpoints by it, never waiting for a flush, so
 * the server always has the next batch while data flows.
 */
export class RawCommitter<Converted> {
  #raw: ByteBuilder | undefined;
  #converter: LineConverter<Converted> | undefined;
  #converterBuffer: ByteBuilder | undefined;
  #lines = 0;
  #bytes = 0;
  #firstLineNumber = 1;
  #nextLineNumber = 1;
  /** Lines given so far, empty ones too. */
  #linesGiven = 0;
  /**
   * While write() runs, the batch_wait_ms timer only marks a cut as due: write() makes it at the
   * next line boundary, once the bytes before it are in the batch (the timer may fire while
   * write() waits for the event loop).
   */
  #writing = false;
  #cutDue = false;
  readonly #queue = new CommitQueue();

  constructor(
    private readonly config: Limits,
    private readonly buffers: RawBuffers,
    /** A converter for a new batch, writing into `out`. */
    private readonly convert: (out: ByteBuilder) => LineConverter<Converted>,
    private readonly commit: (batch: RawBatch<Converted>) => Promise<void>,
  ) {}

  /** Takes a chunk of whole lines; it is copied before this returns (or its promise settles). */
  async write(chunk: Uint8Array): Promise<void> {
    this.#queue.check();
    this.#writing = true;
    try {
      await this.#write(chunk);
    } finally {
      this.#writing = false;
    }
    if (this.#cutDue) {
      this.#cutDue = false;
      await this.#enqueue("previous");
    }
    if (this.#lines > 0) this.#queue.arm(this.config.batch_wait_ms, () => this.#onTimer());
  }

  #onTimer(): Promise<void> {
    if (!this.#writing) return this.#enqueue("all");
    this.#cutDue = true;
    return Promise.resolve();
  }

  async #write(chunk: Uint8Array): Promise<void> {
    let segment = 0;
    let at = 0;
    let sinceYield = 0;
    while (at < chunk.length) {
      if (++sinceYield === linesBetweenYields) {
        sinceYield = 0;
        // The commit in flight may have finished: let the client see it and start the next, so
        // the server is not left idle while this chunk is converted.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.#cutDue) {
        this.#cutDue = false;
        this.#rawBuilder().bytes(chunk, segment, at);
        segment = at;
        await this.#enqueue("previous");
      }
      const newline = chunk.indexOf(10, at);
      const end = newline === -1 ? chunk.length : newline;
      const next = newline === -1 ? chunk.length : newline + 1;
      if (end > at) {
        if (this.#lines > 0 && this.#bytes + (end - at) > this.config.batch_bytes) {
          this.#rawBuilder().bytes(chunk, segment, at);
          segment = at;
          await this.#enqueue("previous");
        }
        this.#linesGiven++;
        this.#take(chunk, at, end);
        if (this.#lines >= this.config.batch_rows) {
          this.#rawBuilder().bytes(chunk, segment, next);
          segment = next;
          await this.#enqueue("previous");
        }
      } else this.#linesGiven++;
      at = next;
    }
    if (segment < chunk.length) this.#rawBuilder().bytes(chunk, segment, chunk.length);
  }

  /** Commits what is gathered and waits for every commit: everything written is durable after it. */
  flush(): Promise<void> {
    return this.#enqueue("all");
  }

  /** How many of the lines given (empty ones too) are committed. */
  durableLines(): number {
    // With nothing gathered or on its way, the (empty) lines after the last batch count too.
    return this.#queue.durable(this.#linesGiven, this.#lines > 0);
  }

  dispose(): void {
    this.#queue.disarm();
    if (this.#raw) this.buffers.give(this.#raw);
    if (this.#converterBuffer) this.buffers.give(this.#converterBuffer);
    this.#raw = undefined;
    this.#converterBuffer = undefined;
    this.#converter = undefined;
  }

  #rawBuilder(): ByteBuilder {
    this.#raw ??= this.buffers.take();
    return this.#raw;
  }

  #take(chunk: Uint8Array, start: number, end: number): void {
    if (this.#lines === 0) {
      this.#firstLineNumber = this.#nextLineNumber;
      if (!this.#queue.failed) {
        this.#converterBuffer = this.buffers.take();
        this.#converter = this.convert(this.#converterBuffer);
      }
    }
    this.#converter?.add(chunk, start, end);
    this.#lines++;
    this.#nextLineNumber++;
    this.#bytes += end - start;
  }

  #enqueue(wait: "all" | "previous"): Promise<void> {
    if (this.#lines === 0) return this.#queue.enqueue(undefined, this.#linesGiven, wait);
    const raw = this.#rawBuilder();
    const converterBuffer = this.#converterBuffer;
    const batch = new RawBatch(
      raw.since(0),
      this.#firstLineNumber,
      this.#lines,
      this.#bytes,
      this.#converter?.finish(),
    );
    this.#raw = undefined;
    this.#converter = undefined;
    this.#converterBuffer = undefined;
    this.#lines = 0;
    this.#bytes = 0;
    const commit = async () => {
      await this.commit(batch);
      // Not after a failure: a socket write of the failed COPY may still hold the buffers.
      this.buffers.give(raw);
      if (converterBuffer) this.buffers.give(converterBuffer);
    };
    return this.#queue.enqueue(commit, this.#linesGiven, wait);
  }
}
