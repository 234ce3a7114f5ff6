// Worker: hashes and writes one blob's chunks, so both overlap the network reads of the main thread.
import type { FromBlobWriter, ToBlobWriter } from "./blob-writer-messages.ts";

declare const self: Worker;

const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
let file: ReturnType<ReturnType<typeof Bun.file>["writer"]> | undefined;
const hasher = new Bun.CryptoHasher("sha256");

const reply = (message: FromBlobWriter) => self.postMessage(message);

async function handle(message: ToBlobWriter): Promise<void> {
  switch (message.code) {
    case "OPEN":
      file = Bun.file(message.path).writer({ highWaterMark: WRITE_BUFFER_BYTES });
      return;
    case "CHUNK":
      hasher.update(message.chunk);
      file?.write(message.chunk);
      return;
    case "FINISH":
      await file?.end();
      reply({ code: "DONE", digest: `sha256:${hasher.digest("hex")}` });
      return;
    default:
      throw new Error(`unknown message ${JSON.stringify(message satisfies never)}`);
  }
}

self.onmessage = (event: MessageEvent<ToBlobWriter>) => {
  handle(event.data).catch((error: unknown) => {
    reply({ code: "ERROR", message: error instanceof Error ? error.message : String(error) });
  });
};
