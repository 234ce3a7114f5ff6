// The optional handshake: a provider's first stdout line may be {"status":"ready"|"error"}, which is
// consumed; anything else is data and goes on untouched.
import { type Handshake, PROTOCOL_VERSION, parseHandshake } from "../protocol/index.ts";
import type { ChunkReader } from "./pump.ts";

/** Whether a handshake announces protocol v2 (or later): `{"status":"ready","protocol":2}`. */
export function speaksV2(handshake: Handshake | undefined): boolean {
  return handshake?.status === "ready" && (handshake.protocol ?? 1) >= PROTOCOL_VERSION;
}

/** Handshake lines are short; a longer first line is data and is not parsed. */
export const HANDSHAKE_MAX_BYTES = 4096;

export interface FirstLineVerdict {
  handshake?: Handshake;
  /** The first line's opening bytes as text (at most HANDSHAKE_MAX_BYTES), for checks and errors. */
  preview: string;
  /** Bytes to drop from the start: the handshake line, if there was one. */
  skip: number;
  /** Not JSON: an input printing logs or a banner to stdout, not protocol v1. */
  notProtocol: boolean;
}

/** Judges the first bytes of a provider's stdout (all bytes read so far). */
export function examineFirstLine(bytes: Uint8Array): FirstLineVerdict {
  const newline = bytes.indexOf(10);
  const lineEnd = newline === -1 ? bytes.length : newline;
  const preview = Buffer.from(bytes.subarray(0, Math.min(lineEnd, HANDSHAKE_MAX_BYTES))).toString(
    "utf8",
  );
  const handshake =
    newline !== -1 && newline <= HANDSHAKE_MAX_BYTES ? parseHandshake(preview) : undefined;
  return {
    ...(handshake ? { handshake } : {}),
    preview,
    skip: handshake ? newline + 1 : 0,
    notProtocol:
      !handshake && !looksLikeJson(preview, newline !== -1 && newline <= HANDSHAKE_MAX_BYTES),
  };
}

/** A short complete line must parse; a long one is judged by its first character only. */
function looksLikeJson(line: string, complete: boolean): boolean {
  const start = line.trim();
  if (start === "") return true;
  if (!complete) return /^[[{"\-0-9tfn]/.test(start);
  try {
    JSON.parse(start);
    return true;
  } catch {
    return false;
  }
}

/** Whether enough of the first line has been read to judge it. */
export function firstLineComplete(bytes: Uint8Array): boolean {
  return bytes.indexOf(10) !== -1 || bytes.length > HANDSHAKE_MAX_BYTES;
}

export interface FirstLine extends FirstLineVerdict {
  /** The stream with the handshake removed; reads start with the bytes already taken. */
  reader: ChunkReader;
}

type BunReader = ReadableStreamDefaultReader<Uint8Array>;

/** Reads until the first newline (or enough bytes to know it is data) and judges it. */
export async function readFirstLine(stream: ReadableStream<Uint8Array>): Promise<FirstLine> {
  const reader = stream.getReader() as BunReader;
  let taken: Uint8Array = new Uint8Array(0);
  let ended = false;
  while (!firstLineComplete(taken)) {
    const { done, value } = await reader.readMany();
    if (done) {
      ended = true;
      break;
    }
    taken = Buffer.concat([taken, ...value]);
  }
  const verdict = examineFirstLine(taken);
  return { ...verdict, reader: prepend(taken.subarray(verdict.skip), reader, ended) };
}

function prepend(head: Uint8Array, reader: BunReader, ended: boolean): ChunkReader {
  let pendingHead = head.length > 0 ? [head] : [];
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
