// Worker: hashes and writes one blob's chunks, so both overlap the network reads of the main thread.

import { messageOf } from "../../errors.ts";
import type { FromBlobWriter, ToBlobWriter } from "./blob-writer-messages.ts";
import { HashingFile } from "./hashing-file.ts";

declare const self: Worker;

let file: HashingFile | undefined;

const reply = (message: FromBlobWriter) => self.postMessage(message);

async function handle(message: ToBlobWriter): Promise<void> {
  switch (message.code) {
    case "OPEN":
      file = new HashingFile(message.path, message.algorithm);
      return;
    case "CHUNK":
      file?.write(message.chunk);
      reply({ code: "WRITTEN", bytes: message.chunk.byteLength });
      return;
    case "FINISH":
      if (!file) throw new Error("FINISH before OPEN");
      reply({ code: "DONE", digest: await file.finish() });
      return;
    default:
      throw new Error(`unknown message ${JSON.stringify(message satisfies never)}`);
  }
}

self.onmessage = (event: MessageEvent<ToBlobWriter>) => {
  handle(event.data).catch((error: unknown) => reply({ code: "ERROR", message: messageOf(error) }));
};
