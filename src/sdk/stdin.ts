// Reads the provider's stdin: the command envelope on the first line, then the data bytes after it.
import * as v from "valibot";
import { type CommandEnvelope, commandEnvelopeSchema } from "../protocol/index.ts";

/** How long a provider waits for its command envelope before giving up (never hang). */
export const commandTimeoutMs = 60_000;

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

export interface StdinSession {
  command: CommandEnvelope;
  /** The data after the command line: bytes already read, then the rest of stdin. */
  data: AsyncIterable<Uint8Array>;
  /** Stops reading stdin so the process can exit. */
  release(): void;
}

/** The part of a stream reader used here (Bun's and Node's reader types differ in extras). */
interface ByteReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(): Promise<void>;
}

async function readWithTimeout(
  reader: ByteReader,
  deadline: number,
): Promise<Awaited<ReturnType<ByteReader["read"]>>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProtocolError(`no command envelope on stdin after ${commandTimeoutMs} ms`)),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([reader.read(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function parseCommand(line: string): CommandEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError(
      `the first stdin line is not JSON; expected {"command":"run","config":{...}}`,
    );
  }
  const result = v.safeParse(commandEnvelopeSchema, value);
  if (!result.success) {
    throw new ProtocolError(
      `the first stdin line is not a command envelope: ${result.issues[0].message}`,
    );
  }
  return result.output;
}

async function* dataAfter(first: Uint8Array, reader: ByteReader): AsyncGenerator<Uint8Array> {
  if (first.length > 0) yield first;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value.length > 0) yield value;
  }
}

/** Reads up to the first \n of stdin and parses it as the command envelope. */
export async function openStdin(
  stream: ReadableStream<Uint8Array> = Bun.stdin.stream(),
): Promise<StdinSession> {
  const reader = stream.getReader() as ByteReader;
  const release = () => {
    reader.cancel().catch(() => {});
  };
  const deadline = Date.now() + commandTimeoutMs;
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await readWithTimeout(reader, deadline);
      if (done) {
        if (parts.length === 0) throw new ProtocolError("stdin closed before the command envelope");
        const line = Buffer.concat(parts).toString("utf8");
        return { command: parseCommand(line), data: dataAfter(new Uint8Array(0), reader), release };
      }
      const newline = value.indexOf(10);
      if (newline === -1) {
        parts.push(value);
        continue;
      }
      parts.push(value.subarray(0, newline));
      const line = Buffer.concat(parts).toString("utf8");
      const rest = value.subarray(newline + 1);
      return { command: parseCommand(line), data: dataAfter(rest, reader), release };
    }
  } catch (error) {
    release();
    throw error;
  }
}
