// The optional handshake: a provider's first stdout line may be {"status":"ready"|"error"}, which is
// consumed; anything else is data and goes on untouched.
import { type Handshake, parseHandshake } from "../protocol/index.ts";
import type { ChunkReader } from "../relay/pump.ts";

/** Handshake lines are short; a longer first line is data and is not parsed. */
const HANDSHAKE_MAX_BYTES = 4096;

export interface FirstLine {
  handshake?: Handshake;
  /** The first line's opening bytes as text (at most HANDSHAKE_MAX_BYTES), for checks and errors. */
  preview: string;
  /** The stream with the handshake removed; reads start with the bytes already taken. */
  reader: ChunkReader;
}

type BunReader = ReadableStreamDefaultReader<Uint8Array>;

/** Reads until the first newline (or enough bytes to know it is data) and checks for a handshake. */
export async function readFirstLine(stream: ReadableStream<Uint8Array>): Promise<FirstLine> {
  const reader = stream.getReader() as BunReader;
  const taken: Uint8Array[] = [];
  let takenBytes = 0;
  let newlineAt = -1;
  let ended = false;
  while (newlineAt === -1 && takenBytes <= HANDSHAKE_MAX_BYTES) {
    const { done, value } = await reader.readMany();
    if (done) {
      ended = true;
      break;
    }
    for (const chunk of value) {
      const index = chunk.indexOf(10);
      if (newlineAt === -1 && index !== -1) newlineAt = takenBytes + index;
      taken.push(chunk);
      takenBytes += chunk.length;
    }
  }
  let handshake: Handshake | undefined;
  let rest = taken;
  const joined = Buffer.concat(taken);
  const lineEnd = newlineAt === -1 ? joined.length : newlineAt;
  const preview = joined.subarray(0, Math.min(lineEnd, HANDSHAKE_MAX_BYTES)).toString("utf8");
  if (newlineAt !== -1 && newlineAt <= HANDSHAKE_MAX_BYTES) {
    handshake = parseHandshake(preview);
    if (handshake) rest = [joined.subarray(newlineAt + 1)];
  }
  return { ...(handshake ? { handshake } : {}), preview, reader: prepend(rest, reader, ended) };
}

function prepend(head: Uint8Array[], reader: BunReader, ended: boolean): ChunkReader {
  let pendingHead = head.filter((chunk) => chunk.length > 0);
  return {
    readMany() {
      if (pendingHead.length > 0) {
        const value = pendingHead;
        pendingHead = [];
        return { done: false, value };
      }
      if (ended) return { done: true, value: [] };
      return reader.readMany();
    },
  };
}
