// The relay worker's entry point: runs one Session and reports to the main thread.
import { messageOf } from "../errors.ts";
import { Session } from "./session.ts";
import type { MainToWorker, WorkerToMain } from "./worker-messages.ts";

declare const self: Worker;

function post(message: WorkerToMain): void {
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

let session: Session | undefined;
let stopBeforeStart = false;

self.addEventListener("error", (event) => reportCrash(event.error ?? event.message));
process.on("unhandledRejection", reportCrash);

self.onmessage = (event: MessageEvent<MainToWorker>) => {
  const message = event.data;
  switch (message.code) {
    case "START":
      session = new Session(message.config);
      if (stopBeforeStart) session.stop();
      session
        .run((inputPid, outputPid) => post({ code: "STARTED", inputPid, outputPid }))
        .then((report) => post({ code: "DONE", report }), reportCrash);
      break;
    case "STOP":
      if (session) session.stop();
      else stopBeforeStart = true;
      break;
    case "KILL":
      session?.kill();
      break;
    default: {
      const unknown: never = message;
      throw new Error(`relay worker got an unknown message: ${JSON.stringify(unknown)}`);
    }
  }
};
