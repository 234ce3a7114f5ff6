// Writes a blob to a file while computing its digest: inline for small blobs, in a worker for large
// ones so that hashing and disk writes can run on a second core while the download goes on.

import { TIMED_OUT, waitAtMost } from "../../bounded-wait.ts";
import type { DigestAlgorithm } from "../../oci/index.ts";
import { isCompiledBinary } from "../../version.ts";
import type { FromBlobWriter, ToBlobWriter } from "./blob-writer-messages.ts";
import { HashingFile } from "./hashing-file.ts";

export interface BlobWriter {
  /** Resolves at once, or once the writer caught up (backpressure); never rejects. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Flushes and answers the digest ("<algorithm>:<hex>") of everything written. */
  finish(): Promise<string>;
  /** Releases the file (and worker) after a failure; never throws. */
  abort(): Promise<void>;
}

/** Below this, starting a worker costs more than hashing inline. */
const WORKER_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** Bytes handed to the worker and not yet written; past this the download waits for the disk. */
const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;
/** The longest the worker may take to write what it holds, or to finish. */
const STALL_TIMEOUT_MS = 60_000;

function inlineWriter(path: string, algorithm: DigestAlgorithm): BlobWriter {
  const file = new HashingFile(path, algorithm);
  return {
    write: (chunk) => file.write(chunk),
    finish: () => file.finish(),
    abort: () => file.close(),
  };
}

function workerUrl(): string | URL {
  // In the compiled binary, extra entry points sit beside main under their source path.
  return isCompiledBinary()
    ? "./registry/store/blob-writer-worker.ts"
    : new URL("./blob-writer-worker.ts", import.meta.url);
}

function workerWriter(path: string, algorithm: DigestAlgorithm): BlobWriter {
  const worker = new Worker(workerUrl());
  const send = (message: ToBlobWriter, transfer?: ArrayBuffer[]) =>
    worker.postMessage(message, transfer ?? []);
  let inFlight = 0;
  let failure: string | undefined;
  let wakeWriter: (() => void) | undefined;
  let settle: (message: FromBlobWriter) => void = () => {};
  const settled = new Promise<FromBlobWriter>((resolve) => {
    settle = resolve;
  });
  const fail = (message: string) => {
    failure ??= message;
    wakeWriter?.();
    settle({ code: "ERROR", message: failure });
  };
  worker.onmessage = (event: MessageEvent<FromBlobWriter>) => {
    const message = event.data;
    switch (message.code) {
      case "WRITTEN":
        inFlight -= message.bytes;
        if (inFlight <= MAX_IN_FLIGHT_BYTES / 2) wakeWriter?.();
        return;
      case "ERROR":
        fail(message.message);
        return;
      case "DONE":
        settle(message);
        return;
      default:
        fail(`unexpected message from the blob writer: ${JSON.stringify(message satisfies never)}`);
    }
  };
  worker.onerror = (event) => fail(event.message);
  send({ code: "OPEN", path, algorithm });
  return {
    async write(chunk) {
      // After a failure the rest is dropped; finish() reports it.
      if (failure !== undefined) return;
      // A chunk that owns its whole buffer moves to the worker without a copy.
      const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
      const data = owned ? chunk : chunk.slice();
      inFlight += data.byteLength;
      send({ code: "CHUNK", chunk: data }, [data.buffer as ArrayBuffer]);
      if (inFlight <= MAX_IN_FLIGHT_BYTES) return;
      // Backpressure: a disk slower than the network must not fill memory with queued chunks.
      const drained = new Promise<void>((resolve) => {
        wakeWriter = resolve;
      });
      if ((await waitAtMost(drained, STALL_TIMEOUT_MS)) === TIMED_OUT) {
        fail(`writing ${path} stalled for ${STALL_TIMEOUT_MS} ms`);
      }
      wakeWriter = undefined;
    },
    async finish() {
      send({ code: "FINISH" });
      const answer = await waitAtMost(settled, STALL_TIMEOUT_MS);
      const result: FromBlobWriter =
        answer === TIMED_OUT
          ? { code: "ERROR", message: `writing ${path} took longer than ${STALL_TIMEOUT_MS} ms` }
          : answer;
      worker.terminate();
      if (result.code === "DONE") return result.digest;
      throw new Error(failure ?? (result.code === "ERROR" ? result.message : "no digest"));
    },
    async abort() {
      worker.terminate();
    },
  };
}

export function openBlobWriter(path: string, size: number, algorithm: DigestAlgorithm): BlobWriter {
  return size >= WORKER_THRESHOLD_BYTES
    ? workerWriter(path, algorithm)
    : inlineWriter(path, algorithm);
}
