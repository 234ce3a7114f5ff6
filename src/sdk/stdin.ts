// Reads the provider's stdin: the command envelope on the first line, then the data bytes after it.
import { read } from "node:fs";
import * as v from "valibot";
import { TIMED_OUT, waitAtMost } from "../bounded-wait.ts";
import { type CommandEnvelope, commandEnvelopeSchema } from "../protocol/index.ts";

/** How long a provider waits for its command envelope before giving up (never hang). */
export const commandTimeoutMs = 60_000;
/**
 * One read takes up to this much, into one buffer kept for the whole run: a fresh buffer per
 * read costs more than the read (page faults), so a consumer that keeps nothing gets views.
 */
const READ_BUFFER_BYTES = 1 << 20;
/** A descriptor someone made non-blocking answers EAGAIN when empty: try again this soon. */
const RETRY_EMPTY_MS = 5;

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

export interface StdinSession {
  command: CommandEnvelope;
  /**
   * The data after the command line, in chunks. With `reuse`, each chunk is a view into one
   * buffer that the next read overwrites: the consumer must be done with it (or copy it) before
   * it asks for the next. Without, every chunk is a copy of its own.
   */
  data(options: { reuse: boolean }): AsyncIterable<Uint8Array>;
  /** Stops reading stdin so the process can exit. */
  release(): void;
}

/** Reads a descriptor into one reused buffer, off the main thread (Node's fs.read). */
class FdReader {
  readonly #buffer = new Uint8Array(READ_BUFFER_BYTES);
  constructor(readonly fd: number) {}

  /** The next bytes, as a view into the shared buffer; empty at the end of input. */
  read(): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const attempt = () =>
        read(this.fd, this.#buffer, 0, this.#buffer.length, null, (error, count) => {
          if (error?.code === "EAGAIN" || error?.code === "EINTR") {
            setTimeout(attempt, RETRY_EMPTY_MS);
          } else if (error?.code === "EOF") {
            // How libuv reports the end of a pipe on Windows.
            resolve(this.#buffer.subarray(0, 0));
          } else if (error) {
            reject(error);
          } else {
            resolve(this.#buffer.subarray(0, count));
          }
        });
      attempt();
    });
  }
}

async function readWithTimeout(reader: FdReader, deadline: number): Promise<Uint8Array> {
  const chunk = await waitAtMost(reader.read(), deadline - Date.now());
  if (chunk === TIMED_OUT) {
    throw new ProtocolError(`no command envelope on stdin after ${commandTimeoutMs} ms`);
  }
  return chunk;
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

function session(command: CommandEnvelope, reader: FdReader, rest: Uint8Array): StdinSession {
  let released = false;
  let started = false;
  return {
    command,
    async *data({ reuse }) {
      if (started) throw new Error("stdin data can be read only once");
      started = true;
      // `rest` is a view into the reader's buffer: it goes out before the next read overwrites it.
      let chunk = rest;
      while (!released) {
        if (chunk.length > 0) yield reuse ? chunk : chunk.slice();
        chunk = await reader.read();
        if (chunk.length === 0) return;
      }
    },
    release() {
      released = true;
    },
  };
}

/** Reads up to the first \n of stdin (fd 0 unless told) and parses it as the command envelope. */
export async function openStdin(fd = 0): Promise<StdinSession> {
  const reader = new FdReader(fd);
  const deadline = Date.now() + commandTimeoutMs;
  // Copies: the reader's buffer is overwritten by the next read.
  const parts: Uint8Array[] = [];
  for (;;) {
    const chunk = await readWithTimeout(reader, deadline);
    if (chunk.length === 0) {
      if (parts.length === 0) throw new ProtocolError("stdin closed before the command envelope");
      const line = Buffer.concat(parts).toString("utf8");
      return session(parseCommand(line), reader, chunk);
    }
    const newline = chunk.indexOf(10);
    if (newline === -1) {
      parts.push(chunk.slice());
      continue;
    }
    parts.push(chunk.subarray(0, newline));
    const line = Buffer.concat(parts).toString("utf8");
    return session(parseCommand(line), reader, chunk.subarray(newline + 1));
  }
}
