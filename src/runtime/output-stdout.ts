// The output provider's stdout copied to dstream's, waiting whenever dstream's stdout is full; a v2
// output's checkpoint echoes are taken out on the way.
import type { ChunkReader } from "../relay/index.ts";
import { EchoSplitter } from "./echo-splitter.ts";

/** Copies what `reader` yields to dstream's stdout; echoes go to `onEcho` when it is given. */
export async function copyToStdout(
  reader: ChunkReader,
  onEcho: ((line: string) => void) | undefined,
): Promise<void> {
  const stdout = Bun.stdout.writer();
  const waiting: Promise<number>[] = [];
  const pass = (bytes: Uint8Array) => {
    const written = stdout.write(bytes);
    if (typeof written !== "number") waiting.push(written);
  };
  const echoes = onEcho ? new EchoSplitter(pass, onEcho) : undefined;
  for (;;) {
    const { done, value } = await reader.readMany();
    if (done) break;
    for (const chunk of value) {
      if (echoes) echoes.push(chunk);
      else pass(chunk);
      if (waiting.length > 0) await Promise.all(waiting.splice(0));
    }
    await stdout.flush();
  }
  echoes?.end();
  await Promise.all(waiting);
  await stdout.flush();
}
