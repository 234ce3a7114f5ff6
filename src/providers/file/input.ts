// file input: reads files (a path or a glob) as JSON values to wrap, or as ready envelopes to pass on;
// its checkpoint is a byte offset per file, which a restart resumes from.
import { readSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import type * as v from "valibot";
import { errorCode } from "../../errors.ts";
import {
  Checkpoint,
  defineInput,
  FileRange,
  type InputItem,
  type ProviderContext,
} from "../../sdk/index.ts";
import { oneLineJson } from "../../sdk/json-text.ts";
import { LineSplitter, WholeLineCutter } from "../../sdk/line-splitter.ts";
import { describeFileError } from "./file-errors.ts";
import { FileHead, HEAD_BYTES, readAt } from "./fingerprint.ts";
import { followFile } from "./follow.ts";
import { resolveFiles } from "./glob.ts";
import {
  type FileCheckpoint,
  type FilePosition,
  parseFileCheckpoint,
  type Start,
  startOf,
} from "./position.ts";
import { fileInputConfigSchema } from "./schema.ts";

export { fileInputConfigSchema };

type FileInputConfig = v.InferOutput<typeof fileInputConfigSchema>;
type Context = ProviderContext<FileInputConfig>;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const newline = Uint8Array.of(10);
/** Raw files go out in ranges of about this size: a stop is honoured between two. */
const RAW_RANGE_BYTES = 4 << 20;

async function requireFile(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error(`cannot read "${path}": not a file`);
  } catch (error) {
    if (errorCode(error)) throw new Error(describeFileError("read", path, error));
    throw error;
  }
}

/**
 * Where the run stands: files finished, and the one being read (its position as lines go out, and
 * its first bytes as read, for the position's fingerprint).
 */
interface Progress {
  done: FilePosition[];
  current: FilePosition;
  head: FileHead;
}

/** The position of what went out so far in the current file, fingerprinted: a snapshot. */
function positionOf(progress: Progress): FilePosition {
  const { current, head } = progress;
  return { ...current, ...head.fingerprintAt(current.offset) };
}

function checkpointOf(progress: Progress): FileCheckpoint {
  return { done: progress.done, current: positionOf(progress) };
}

/**
 * A file's chunks from the current position, each kept in the file's head as it passes; a followed
 * file tells of each file it opens (a new one after rotation) and when it starts over (rotated,
 * truncated, rewritten).
 */
async function* chunksOf(
  path: string,
  context: Context,
  progress: Progress,
  onRestart: () => void,
): AsyncGenerator<Uint8Array> {
  const { offset, dev, ino } = progress.current;
  let at = offset;
  const chunks = context.config.follow
    ? followFile(path, {
        ...context,
        start: { dev, ino, offset },
        onOpen: (opened) => {
          // The file resumed in keeps its position; another one (after a rotation) starts at 0.
          const { current } = progress;
          if (opened.dev === current.dev && opened.ino === current.ino) return;
          progress.current = { file: path, dev: opened.dev, ino: opened.ino, offset: 0, line: 0 };
          progress.head = new FileHead();
          at = 0;
        },
        onRestart: () => {
          progress.head = new FileHead();
          at = 0;
          onRestart();
        },
      })
    : (offset > 0 ? Bun.file(path).slice(offset) : Bun.file(path)).stream();
  for await (const chunk of chunks) {
    progress.head.add(chunk, at);
    at += chunk.length;
    yield chunk;
  }
}

/** A line a followed file left unfinished when it started over cannot be completed: it is dropped. */
function dropUnfinished(path: string, context: Context, bytes: number): void {
  if (bytes > 0)
    context.log(`${path}: dropped an unfinished last line (${bytes} bytes) of the old file`);
}

/**
 * Where the first line ending at or after `from` ends (one past its \n), or `size`. Read in place
 * (page cache, a few KiB per range): a hop to the thread pool would cost more than the read.
 */
function lineEndFrom(fd: number, from: number, size: number): number {
  const window = new Uint8Array(64 * 1024);
  for (let at = Math.max(0, from - 1); at < size; at += window.length) {
    const bytesRead = readSync(fd, window, 0, window.length, at);
    if (bytesRead === 0) break;
    const newline = window.subarray(0, bytesRead).indexOf(10);
    if (newline !== -1) return at + newline + 1;
  }
  return size;
}

/**
 * A whole file as ranges of whole lines that the SDK copies in the kernel: no byte of it passes
 * through JavaScript. Ranges end at line ends, so a stop between two never cuts a line.
 */
async function* rawRanges(path: string, progress: Progress): AsyncGenerator<InputItem> {
  const handle = await open(path, "r").catch((error: unknown) => {
    throw new Error(describeFileError("read", path, error), { cause: error });
  });
  let lastByte = 10;
  try {
    const { size } = await handle.stat();
    progress.head = FileHead.of(await readAt(handle, 0, Math.min(HEAD_BYTES, size)));
    for (let start = progress.current.offset; start < size; ) {
      const end = lineEndFrom(handle.fd, Math.min(size, start + RAW_RANGE_BYTES), size);
      const last = new Uint8Array(1);
      readSync(handle.fd, last, 0, 1, end - 1);
      lastByte = last[0] ?? 10;
      yield new FileRange(path, start, end, lastByte === 10);
      if (lastByte !== 10) yield newline;
      progress.current.offset = end;
      yield new Checkpoint(checkpointOf(progress));
      start = end;
    }
  } finally {
    await handle.close();
  }
}

/** Raw lines go out as they are: a followed file in whole-line chunks, any other as file ranges. */
async function* rawLines(
  path: string,
  context: Context,
  progress: Progress,
): AsyncGenerator<InputItem> {
  if (!context.config.follow) return yield* rawRanges(path, progress);
  // A followed file may end mid-line while its writer is still busy: hand on whole lines only.
  let cutter = new WholeLineCutter();
  const restart = () => {
    dropUnfinished(path, context, cutter.end()?.length ?? 0);
    cutter = new WholeLineCutter();
    progress.current = { ...progress.current, offset: 0, line: 0 };
  };
  for await (const chunk of chunksOf(path, context, progress, restart)) {
    const pieces = cutter.push(chunk);
    if (pieces.length === 0) continue;
    yield* pieces;
    for (const piece of pieces) progress.current.offset += piece.length;
    yield new Checkpoint(checkpointOf(progress));
  }
}

async function* jsonLines(
  path: string,
  context: Context,
  progress: Progress,
): AsyncGenerator<InputItem> {
  let splitter = new LineSplitter();
  // metadata.line counts from 1 again in a new (rotated) or truncated file.
  const restart = () => {
    dropUnfinished(path, context, splitter.end()?.length ?? 0);
    splitter = new LineSplitter();
    progress.current = { ...progress.current, offset: 0, line: 0 };
  };
  const ready: InputItem[] = [];
  const fileMember = `"file":${JSON.stringify(path)}`;
  // Event lines gathered from a chunk, and the position after the last of them.
  let lines = "";
  let position: unknown;
  const wrap = (line: Uint8Array, hasNewline = true) => {
    const current = progress.current;
    current.line++;
    current.offset += line.length + (hasNewline ? 1 : 0);
    const text = decoder.decode(line).trim();
    if (text === "") return;
    // Kept as written: a number no double holds keeps every digit.
    const data = oneLineJson(text);
    if (data === undefined) {
      throw new Error(
        `${path}:${current.line}: not valid JSON (format "jsonl" needs one JSON value per line)`,
      );
    }
    lines += `{"data":${data},"metadata":{${fileMember},"line":${current.line}}}\n`;
    position = checkpointOf(progress);
  };
  /** The lines gathered go out, then their position. */
  const release = () => {
    if (lines !== "") {
      ready.push(encoder.encode(lines), new Checkpoint(position));
      lines = "";
    }
    return ready.splice(0);
  };
  for await (const chunk of chunksOf(path, context, progress, restart)) {
    try {
      splitter.push(chunk, wrap);
    } finally {
      // The lines before a bad one still go out, so the error is the last thing seen.
      yield* release();
    }
  }
  const last = splitter.end();
  if (last && !context.config.follow) wrap(last, false);
  yield* release();
}

/** Where a run starts in `path`: after the checkpoint's position for it, or at its start. */
async function startIn(
  path: string,
  recorded: FilePosition | undefined,
  context: Context,
): Promise<Start> {
  if (context.config.follow && !recorded) {
    const info = await stat(path).catch(() => undefined);
    const position = { file: path, dev: info?.dev ?? 0, ino: info?.ino ?? 0, offset: 0, line: 0 };
    return { position, head: new FileHead() };
  }
  try {
    return await startOf(path, recorded, context.task);
  } catch (error) {
    if (errorCode(error)) throw new Error(describeFileError("read", path, error));
    throw error;
  }
}

export const fileInput = defineInput({
  schema: fileInputConfigSchema,
  async *run(config, context) {
    const recorded = parseFileCheckpoint(context.checkpoint);
    const files = await resolveFiles(config.path);
    const done: FilePosition[] = [];
    for (const path of files) {
      if (context.signal.aborted) return;
      if (!config.follow) await requireFile(path);
      const { position, head } = await startIn(path, recorded.get(path), context);
      const progress: Progress = { done: [...done], current: position, head };
      yield* config.format === "raw"
        ? rawLines(path, context, progress)
        : jsonLines(path, context, progress);
      done.push(positionOf(progress));
    }
  },
});
