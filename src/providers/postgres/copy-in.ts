// COPY ... FROM STDIN on a node-postgres client: a query object the client runs like any other
// (the protocol messages pg-copy-streams sends, without its stream machinery).
import type pg from "pg";

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Uint8Array): void;
  endCopyFrom(): void;
  /** The socket node-postgres writes its messages to. */
  stream?: { writable: boolean; write(data: Uint8Array): boolean };
}

/** CopyData ('d', then the length of what follows, itself included), before each chunk. */
function copyDataHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(5);
  header[0] = 0x64;
  header.writeUInt32BE(length + 4, 1);
  return header;
}

/** Largest CopyData message sent; the server takes any size, this bounds each copy in memory. */
const chunkBytes = 1 << 20;

class CopyIn {
  readonly done: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;
  #failed = false;
  /** Whether the data went with the query (submit), not after the CopyInResponse. */
  #sent = false;

  constructor(
    readonly text: string,
    private readonly data: Uint8Array,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: CopyConnection): void {
    connection.query(this.text);
    const stream = connection.stream;
    if (!stream?.writable) return;
    // The data goes right behind the query, not after the server's CopyInResponse: the server
    // reads it as soon as COPY starts, and never waits for this process's event loop (busy
    // converting the next batch) to answer. Should COPY fail to start, the protocol has the server
    // drop the CopyData and CopyDone that follow. Header and data straight to the socket: the
    // client's sendCopyFromChunk would copy the data into a message buffer first. (The data is not
    // reused before the COPY completes.)
    for (let start = 0; start < this.data.length; start += chunkBytes) {
      const end = Math.min(start + chunkBytes, this.data.length);
      stream.write(copyDataHeader(end - start));
      stream.write(Buffer.from(this.data.buffer, this.data.byteOffset + start, end - start));
    }
    connection.endCopyFrom();
    this.#sent = true;
  }

  handleCopyInResponse(connection: CopyConnection): void {
    if (this.#sent) return;
    for (let start = 0; start < this.data.length; start += chunkBytes) {
      const end = Math.min(start + chunkBytes, this.data.length);
      connection.sendCopyFromChunk(
        Buffer.from(this.data.buffer, this.data.byteOffset + start, end - start),
      );
    }
    connection.endCopyFrom();
  }

  handleError(error: unknown): void {
    this.#failed = true;
    this.#reject(error);
  }

  handleReadyForQuery(): void {
    if (!this.#failed) this.#resolve();
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}
}

/** Runs `COPY <target> FROM STDIN` with `data` (rows in COPY's text format); resolves when done. */
export function copyIn(client: pg.Client, target: string, data: Uint8Array): Promise<void> {
  const copy = new CopyIn(`COPY ${target} FROM STDIN`, data);
  client.query(copy as unknown as pg.QueryConfig);
  return copy.done;
}
