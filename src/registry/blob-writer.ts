// Writes a blob to a file while computing its sha256: inline for small blobs, in a worker for large
// ones so that hashing and disk writes can run on a second core while the download goes on.
import type { FromBlobWriter, ToBlobWriter } from "./blob-writer-messages.ts";
import { HashingFile } from "./hashing-file.ts";

export interface BlobWriter {
  write(chunk: Uint8Array): void;
  /** Flushes and answers "sha256:<hex>" of everything written. */
  finish(): Promise<string>;
  /** Releases the file (and worker) after a failure; never throws. */
  abort(): Promise<void>;
}

/** Below this, starting a worker costs more than hashing inline. */
const WORKER_THRESHOLD_BYTES = 16 * 1024 * 1024;
const FINISH_TIMEOUT_MS = 60_000;

function inlineWriter(path: string): BlobWriter {
  const file = new HashingFile(path);
  return {
    write: (chunk) => file.write(chunk),
    finish: () => file.finish(),
    abort: () => file.close(),
  };
}

function workerUrl(): string | URL {
  const compiled =
    import.meta.dir.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/.test(import.meta.dir);
  // In the compiled binary, extra entry points sit beside main under their source path.
  return compiled
    ? "./registry/blob-writer-worker.ts"
    : new URL("./blob-writer-worker.ts", import.meta.url);
}

function workerWriter(path: string): BlobWriter {
  const worker = new Worker(workerUrl());
  const send = (message: ToBlobWriter, transfer?: ArrayBuffer[]) =>
    worker.postMessage(message, transfer ?? []);
  let failed = false;
  let settle: (message: FromBlobWriter) => void = () => {};
  const settled = new Promise<FromBlobWriter>((resolve) => {
    settle = resolve;
  });
  worker.onmessage = (event: MessageEvent<FromBlobWriter>) => {
    if (event.data.code === "ERROR") failed = true;
    settle(event.data);
  };
  worker.onerror = (event) => {
    failed = true;
    settle({ code: "ERROR", message: event.message });
  };
  send({ code: "OPEN", path });
  return {
    write(chunk) {
      // After a write error the rest is dropped; finish() reports the error.
      if (failed) return;
      // A chunk that owns its whole buffer moves to the worker without a copy.
      const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
      const data = owned ? chunk : chunk.slice();
      send({ code: "CHUNK", chunk: data }, [data.buffer as ArrayBuffer]);
    },
    async finish() {
      send({ code: "FINISH" });
      let timer: Timer | undefined;
      const timeout = new Promise<FromBlobWriter>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({
              code: "ERROR",
              message: `writing ${path} took longer than ${FINISH_TIMEOUT_MS} ms`,
            }),
          FINISH_TIMEOUT_MS,
        );
      });
      const result = await Promise.race([settled, timeout]);
      clearTimeout(timer);
      worker.terminate();
      if (result.code === "ERROR") throw new Error(result.message);
      return result.digest;
    },
    async abort() {
      worker.terminate();
    },
  };
}

export function openBlobWriter(path: string, size: number): BlobWriter {
  return size >= WORKER_THRESHOLD_BYTES ? workerWriter(path) : inlineWriter(path);
}
