// The relay worker's entry point: pumps one input descriptor into one output descriptor and reports.
import { messageOf } from "../errors.ts";
import { FdPump } from "./fd-pump.ts";
import type { MainToRelay, RelayToMain } from "./messages.ts";

declare const self: Worker;

function post(message: RelayToMain): void {
  self.postMessage(message);
}

function reportCrash(error: unknown): void {
  // Error objects lose fields crossing threads: copy what matters by hand.
  post({
    code: "ERROR",
    message: messageOf(error),
    ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
  });
}

self.addEventListener("error", (event) => reportCrash(event.error ?? event.message));

self.onmessage = (event: MessageEvent<MainToRelay>) => {
  const message = event.data;
  switch (message.code) {
    case "START":
      try {
        const pump = new FdPump(message.config, {
          onInputFirstLine: (handshake) =>
            post({ code: "INPUT_FIRST_LINE", ...(handshake ? { handshake } : {}) }),
          onCheckpoints: (checkpoints) => post({ code: "CHECKPOINTS", checkpoints }),
        });
        const result = pump.run();
        post({ code: "DONE", result });
        pump.drainInput();
      } catch (error) {
        reportCrash(error);
      }
      break;
    default: {
      const unknown: never = message.code;
      throw new Error(`relay worker got an unknown message: ${JSON.stringify(unknown)}`);
    }
  }
};
