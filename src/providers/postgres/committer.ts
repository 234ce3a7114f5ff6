// Batches gathered to the postgres output's limits (rows, bytes, wait) and committed one at a time.
import { Batch } from "../../sdk/index.ts";
import type { PostgresOutputConfig } from "./schema.ts";

/**
 * Gathers the SDK's batches up to the settings' limits and commits them as one transaction: when
 * full, when batch_wait_ms has passed, and whenever the SDK flushes before acknowledging a
 * checkpoint. Commits run one at a time, in order; while one runs, the next batch is gathered and
 * prepared (`prepare`, when given, runs as a batch is queued: the server works on the previous
 * batch meanwhile).
 */
export class Committer<Prepared = undefined> {
  #lines: Uint8Array[] = [];
  #bytes = 0;
  #firstLineNumber = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(
    private readonly config: Pick<
      PostgresOutputConfig,
      "batch_rows" | "batch_bytes" | "batch_wait_ms"
    >,
    private readonly commit: (batch: Batch, prepared: Prepared | undefined) => Promise<void>,
    private readonly prepare?: (batch: Batch) => Prepared,
  ) {}

  /** A commit started by the timer that fails is reported by the next add, flush or close. */
  async add(batch: Batch): Promise<void> {
    this.#check();
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
    } else {
      for (let index = 0; index < lines.length; index++) {
        const line = lines[index] as Uint8Array;
        if (this.#lines.length > 0 && this.#bytes + line.length > this.config.batch_bytes) {
          await this.#enqueue("previous");
        }
        if (this.#lines.length === 0) this.#firstLineNumber = batch.firstLineNumber + index;
        this.#lines.push(line);
        this.#bytes += line.length;
        if (this.#lines.length >= this.config.batch_rows) await this.#enqueue("previous");
      }
    }
    if (this.#lines.length > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#enqueue("all").catch(() => {});
      }, this.config.batch_wait_ms);
    }
  }

  /** Commits what is gathered and waits for every commit: everything written is durable after it. */
  async flush(): Promise<void> {
    await this.#enqueue("all");
  }

  /**
   * Queues a commit of what is gathered. Waits for "all" commits (a flush), or only for the
   * "previous" one: the server works on this batch while the next is read and gathered.
   */
  #enqueue(wait: "all" | "previous"): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const previous = this.#queue;
    if (this.#lines.length > 0) {
      const batch = new Batch(this.#lines, this.#firstLineNumber, this.#bytes);
      this.#lines = [];
      this.#bytes = 0;
      const prepared = this.#failure === undefined ? this.prepare?.(batch) : undefined;
      this.#queue = this.#queue.then(async () => {
        if (this.#failure === undefined) {
          await this.commit(batch, prepared).catch((error: unknown) => {
            this.#failure = error;
          });
        }
      });
    }
    return (wait === "all" ? this.#queue : previous).then(() => this.#check());
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }
}
