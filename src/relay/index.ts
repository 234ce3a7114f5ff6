// Starts a relay from an input to an output: raw descriptors pumped by the relay worker, or Bun
// streams pumped on the calling thread where raw pipes are not available.
import { isCompiledBinary } from "../version.ts";
import { BadCheckpointError, checkpointModeFor } from "./checkpoints.ts";
import { readFirstLine, speaksV2 } from "./first-line.ts";
import { LineTooLongError } from "./line-framer.ts";
import type {
  FdRelayConfig,
  MainToRelay,
  RelayEvents,
  RelayResult,
  RelayToMain,
} from "./messages.ts";
import { type ChunkSink, discard, LinePump, type PumpLimits } from "./pump.ts";

export type { RelayedCheckpoint } from "./checkpoints.ts";
export {
  createCounterBuffer,
  markCommitted,
  markInputEnd,
  markOutputProtocol,
  outputProtocolOf,
  readCounters,
} from "./counters.ts";
export { readFirstLine, speaksV2 } from "./first-line.ts";
export type { RelayEnd, RelayEvents, RelayFigures, RelayResult } from "./messages.ts";
export {
  closeQuietly,
  createOsPipe,
  type OsPipe,
  retireWriteEnd,
  unreadBytesOf,
  unreadPipeBytes,
} from "./os-pipe.ts";
export { type ChunkReader, discard, type PumpLimits } from "./pump.ts";

export interface Relay {
  result: Promise<RelayResult>;
  /** Ends the relay's thread, if it has one; call once the providers are gone. */
  dispose(): void;
}

/** In the binary, entrypoints sit under Bun's virtual root by their path relative to src/. */
function workerUrl(): string | URL {
  return isCompiledBinary() ? "./relay/worker.ts" : new URL("./worker.ts", import.meta.url);
}

/**
 * Pumps `config.inputFd` into `config.outputFd` on the relay worker thread; it closes the input's
 * end, and retires the output's (see retireWriteEnd), which the caller closes once it is done.
 */
export function startFdRelay(config: FdRelayConfig, events: RelayEvents): Relay {
  // smol: a smaller heap for a thread that only moves bytes.
  const worker = new Worker(workerUrl(), { smol: true });
  const result = new Promise<RelayResult>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: RelayResult | Error) => {
      if (settled) return;
      settled = true;
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    worker.onmessage = (event: MessageEvent<RelayToMain>) => {
      const message = event.data;
      switch (message.code) {
        case "INPUT_FIRST_LINE":
          events.onInputFirstLine(message.handshake);
          break;
        case "CHECKPOINTS":
          for (const checkpoint of message.checkpoints) events.onCheckpoint(checkpoint);
          break;
        case "DONE":
          settle(message.result);
          break;
        case "ERROR":
          settle(new Error(`relay worker failed: ${message.message}`));
          break;
        default: {
          const unknown: never = message;
          settle(new Error(`unknown relay worker message ${JSON.stringify(unknown)}`));
        }
      }
    };
    worker.addEventListener("error", (event) =>
      settle(new Error(`relay worker failed: ${event.message}`)),
    );
    // The main thread treats any exit before DONE as a failure.
    worker.addEventListener("close", () => settle(new Error("relay worker exited unexpectedly")));
  });
  const start: MainToRelay = { code: "START", config };
  worker.postMessage(start);
  return { result, dispose: () => worker.terminate() };
}

/** The portable path: Bun streams, pumped on this thread with the same framing and counters. */
export function startStreamRelay(
  input: ReadableStream<Uint8Array>,
  output: ChunkSink,
  limits: PumpLimits,
  counters: SharedArrayBuffer,
  events: RelayEvents,
  /** Whether a last line without newline is whole (false: the input was cut off mid-line). */
  lastLineIsWhole: () => Promise<boolean>,
  /** The output's protocol as the session decided it so far (0: not yet). */
  outputProtocol: () => number,
): Relay {
  const pump = new LinePump(counters, limits);
  const settleResult = (end: RelayResult["end"]): RelayResult => {
    const progress = pump.progress();
    return {
      end,
      lines: progress.lines,
      inFlightLines: progress.inFlightLines,
      inFlightBytes: progress.inFlightBytes,
      cutLineBytes: pump.cutLineBytes,
    };
  };
  const run = async (): Promise<RelayResult> => {
    const first = await readFirstLine(input);
    events.onInputFirstLine(first.handshake);
    let end: RelayResult["end"] | undefined;
    if (first.handshake?.status === "error")
      end = { kind: "handshake-error", message: first.handshake.message };
    else if (first.notProtocol) end = { kind: "not-protocol", preview: first.preview };
    else {
      try {
        const checkpoints = speaksV2(first.handshake)
          ? {
              mode: () => checkpointModeFor(outputProtocol()),
              report: events.onCheckpoint,
            }
          : undefined;
        await pump.run(first.reader, output, lastLineIsWhole, checkpoints);
        return settleResult({ kind: "ended" });
      } catch (error) {
        end =
          error instanceof LineTooLongError
            ? { kind: "line-too-long", message: error.message }
            : error instanceof BadCheckpointError
              ? { kind: "bad-checkpoint", message: error.message }
              : {
                  kind: "output-closed",
                  message: error instanceof Error ? error.message : String(error),
                };
      }
    }
    // Keep reading: an input blocked on a full pipe could otherwise never act on its SIGTERM.
    void discard(first.reader);
    return settleResult(end);
  };
  return { result: run(), dispose() {} };
}
