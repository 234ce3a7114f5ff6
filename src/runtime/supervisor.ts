// Main-thread side of a run: starts the relay worker, turns signals into an ordered stop, bounds
// every wait, and makes sure no provider survives an unexpected end.
import { DstreamError } from "../errors.ts";
import { isCompiledBinary } from "./self-command.ts";
import type {
  MainToWorker,
  SessionConfig,
  SessionReport,
  WorkerToMain,
} from "./worker-messages.ts";

export interface SuperviseOptions {
  config: SessionConfig;
  shutdownTimeoutMs: number;
  /** Called on the first stop signal, e.g. to tell the user what is happening. */
  onStopRequested?: (signal: string) => void;
}

export type SuperviseOutcome =
  | { kind: "finished"; report: SessionReport }
  /** A second signal: providers were killed at once. */
  | { kind: "forced"; signal: string }
  /** Providers did not stop within the shutdown timeout after the first signal; they were killed. */
  | { kind: "timed-out"; report?: SessionReport };

/** How long to wait for the worker's report after SIGKILLing the providers. */
const KILL_GRACE_MS = 3000;

/** In the binary, entrypoints sit under Bun's virtual root by their path relative to src/. */
function workerUrl(): string | URL {
  return isCompiledBinary() ? "./runtime/worker.ts" : new URL("./worker.ts", import.meta.url);
}

export async function superviseSession(options: SuperviseOptions): Promise<SuperviseOutcome> {
  const worker = new Worker(workerUrl());
  const send = (message: MainToWorker) => worker.postMessage(message);
  let pids: number[] = [];
  let settle: (outcome: SuperviseOutcome | Error) => void = () => {};
  const settled = new Promise<SuperviseOutcome | Error>((resolve) => {
    settle = resolve;
  });
  let finished = false;
  let timedOut = false;
  let stopSignals = 0;
  let shutdownTimer: Timer | undefined;

  const killProviders = () => {
    send({ code: "KILL" });
    for (const pid of pids) {
      try {
        process.kill(process.platform === "win32" ? pid : -pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  };

  const onSignal = (signal: NodeJS.Signals) => {
    stopSignals++;
    if (stopSignals === 1) {
      options.onStopRequested?.(signal);
      send({ code: "STOP" });
      shutdownTimer = setTimeout(() => {
        timedOut = true;
        killProviders();
        // The worker reports once the killed providers are reaped; don't wait for it forever.
        setTimeout(() => settle({ kind: "timed-out" }), KILL_GRACE_MS).unref();
      }, options.shutdownTimeoutMs);
      return;
    }
    killProviders();
    settle({ kind: "forced", signal });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  worker.onmessage = (event: MessageEvent<WorkerToMain>) => {
    const message = event.data;
    switch (message.code) {
      case "STARTED":
        pids = [message.inputPid, message.outputPid];
        break;
      case "DONE":
        finished = true;
        settle(
          timedOut
            ? { kind: "timed-out", report: message.report }
            : { kind: "finished", report: message.report },
        );
        break;
      case "ERROR":
        settle(new DstreamError("INTERNAL", `relay worker failed: ${message.message}`));
        break;
      default: {
        const unknown: never = message;
        settle(new DstreamError("INTERNAL", `unknown relay message ${JSON.stringify(unknown)}`));
      }
    }
  };
  worker.addEventListener("error", (event) => {
    settle(new DstreamError("INTERNAL", `relay worker failed: ${event.message}`));
  });
  worker.addEventListener("close", () => {
    if (!finished) settle(new DstreamError("INTERNAL", "relay worker exited unexpectedly"));
  });

  send({ code: "START", config: options.config });
  const outcome = await settled;
  clearTimeout(shutdownTimer);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  if (outcome instanceof Error || outcome.kind !== "finished") killProviders();
  worker.terminate();
  if (outcome instanceof Error) throw outcome;
  return outcome;
}
