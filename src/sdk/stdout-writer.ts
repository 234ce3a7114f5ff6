// Writes to a Node-style stream with backpressure: callers await only when the stream says it is full.
import type { Writable } from "node:stream";

export class StdoutWriter {
  readonly #stream: Writable;
  #failure: Error | undefined;

  constructor(stream: Writable = process.stdout) {
    this.#stream = stream;
    // A closed reader (EPIPE) must end the provider with a message, not crash it with a stack.
    stream.on("error", (error: Error) => {
      this.#failure ??= error;
    });
  }

  /** Queues bytes; returns a promise only when the caller must wait for the reader to catch up. */
  write(bytes: Uint8Array | string): Promise<void> | undefined {
    if (this.#failure) throw this.#failure;
    if (this.#stream.write(bytes)) return undefined;
    return this.#drained();
  }

  /** Resolves once everything written so far has been handed to the operating system. */
  flush(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#stream.write("", (error) => {
        const failure = error ?? this.#failure;
        if (failure) reject(failure);
        else resolve();
      });
    });
  }

  #drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = this.#stream;
      const settle = (error?: Error) => {
        stream.off("drain", onDrain);
        stream.off("error", settle);
        stream.off("close", onClose);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = () => settle();
      const onClose = () => settle(this.#failure ?? new Error("stdout was closed"));
      stream.on("drain", onDrain);
      stream.on("error", settle);
      stream.on("close", onClose);
    });
  }
}
