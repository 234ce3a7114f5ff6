// START_REPLICATION on a node-postgres replication connection: CopyData messages queued with
// backpressure (the socket pauses while the queue is full), and Standby Status Updates that only
// ever carry the last LSN dstream committed. node-postgres sends no status updates of its own.
import type pg from "pg";
import { quoteIdentifier, quoteLiteral } from "./connection.ts";
import { formatLsn, type Lsn } from "./lsn.ts";
import { decodeReplication, type ReplicationMessage, standbyStatusUpdate } from "./pgoutput.ts";

/** The socket pauses above this many queued bytes and resumes below a quarter of it. */
const queueHighBytes = 8 * 1024 * 1024;
/** A status update at least this often, so a paused socket never looks like a dead client. */
const statusIntervalMs = 10_000;

/** The parts of node-postgres's Connection a submittable query uses. */
interface WireConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream: { pause(): void; resume(): void };
}

export interface StreamOptions {
  slot: string;
  publication: string;
  startLsn: Lsn;
  /** What dstream has committed so far: the only position ever reported. */
  committedLsn: Lsn;
}

export class ReplicationStream {
  readonly #client: pg.Client;
  #connection: WireConnection | undefined;
  #queue: (Buffer | undefined)[] = [];
  #head = 0;
  #queuedBytes = 0;
  #paused = false;
  #failure: unknown;
  #ended = false;
  #wake: (() => void) | undefined;
  #committed: Lsn;
  #statusTimer: ReturnType<typeof setInterval> | undefined;
  #started: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(client: pg.Client, committedLsn: Lsn) {
    this.#client = client;
    this.#committed = committedLsn;
  }

  /** Sends START_REPLICATION; resolves once the server streams, rejects with its error. */
  start(options: StreamOptions): Promise<void> {
    const command = `START_REPLICATION SLOT ${quoteIdentifier(options.slot)} LOGICAL ${formatLsn(options.startLsn)} (proto_version '1', publication_names ${quoteLiteral(quoteIdentifier(options.publication))})`;
    const started = new Promise<void>((resolve, reject) => {
      this.#started = { resolve, reject };
    });
    const stream = this;
    const submittable = {
      submit(connection: WireConnection) {
        stream.#connection = connection;
        connection.query(command);
      },
      handleCopyData(message: { chunk: Buffer }) {
        stream.#onData(message.chunk);
      },
      handleError(error: unknown) {
        stream.#fail(error);
      },
      handleReadyForQuery() {
        stream.#end();
      },
      handleCommandComplete() {},
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleCopyInResponse() {},
    };
    // CopyBothResponse arrives as "replicationStart": the server streams from here on.
    (
      this.#client as unknown as { connection: { once(event: string, listener: () => void): void } }
    ).connection.once("replicationStart", () => {
      this.#started?.resolve();
      this.#statusTimer = setInterval(() => this.#sendStatus(false), statusIntervalMs);
    });
    this.#client.on("error", (error) => this.#fail(error));
    this.#client.on("end", () => this.#end());
    void this.#client.query(submittable as unknown as pg.QueryConfig);
    return started;
  }

  /** Resolves when a message is queued, the stream ended or failed, or after `timeoutMs`. */
  async wait(timeoutMs: number): Promise<void> {
    if (this.hasQueued || this.#ended || this.#failure !== undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, timeoutMs);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /** The next queued message; undefined when none is (ended tells why); throws the stream's failure. */
  take(): ReplicationMessage | undefined {
    const chunk = this.#queue[this.#head];
    if (chunk === undefined) {
      if (this.#failure !== undefined) throw this.#failure;
      return undefined;
    }
    this.#queue[this.#head++] = undefined;
    // Dropping taken slots now and then keeps take() O(1) (Array.shift would copy the queue).
    if (this.#head >= 4096 && this.#head * 2 >= this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    this.#queuedBytes -= chunk.length;
    if (this.#paused && this.#queuedBytes < queueHighBytes / 4) {
      this.#paused = false;
      this.#connection?.stream.resume();
    }
    return decodeReplication(chunk);
  }

  get hasQueued(): boolean {
    return this.#head < this.#queue.length;
  }

  /** The server ended the stream (or close() was called) and nothing is left to take. */
  get ended(): boolean {
    return this.#ended && !this.hasQueued;
  }

  /** dstream committed up to `lsn`: the server may now release WAL before it. */
  confirm(lsn: Lsn): void {
    if (lsn <= this.#committed) return;
    this.#committed = lsn;
    this.#sendStatus(false);
  }

  /** Asks the server for a keepalive now (its answer carries its position, for the heartbeat). */
  requestKeepalive(): void {
    this.#sendStatus(true);
  }

  /** Wakes a pending next() (a stop). */
  interrupt(): void {
    this.#wake?.();
  }

  async close(): Promise<void> {
    clearInterval(this.#statusTimer);
    this.#ended = true;
    this.#wake?.();
    await this.#client.end().catch(() => {});
  }

  #sendStatus(replyRequested: boolean): void {
    if (this.#ended || !this.#connection) return;
    this.#connection.sendCopyFromChunk(standbyStatusUpdate(this.#committed, replyRequested));
  }

  #onData(view: Buffer): void {
    // A copy: node-postgres's parser reuses its buffer for later messages.
    const chunk = Buffer.from(view);
    // A keepalive that asks for a reply is answered at once, whatever waits in the queue: with the
    // committed position, never with what was received.
    if (chunk[0] === 0x6b /* k */ && chunk[chunk.length - 1] === 1) this.#sendStatus(false);
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    if (!this.#paused && this.#queuedBytes > queueHighBytes) {
      this.#paused = true;
      this.#connection?.stream.pause();
    }
    this.#wake?.();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#started?.reject(error);
    this.#wake?.();
  }

  #end(): void {
    this.#ended = true;
    this.#started?.reject(
      new Error("postgres-cdc: the server ended replication before it started"),
    );
    this.#wake?.();
  }
}
