// file input: reads files (a path or a glob) as JSON values to wrap, or as ready envelopes to pass on.
import { readSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import * as v from "valibot";
import {
  configObject,
  defineInput,
  FileRange,
  type InputItem,
  type ProviderContext,
} from "../../sdk/index.ts";
import { LineSplitter, WholeLineCutter } from "../../sdk/line-splitter.ts";
import { describeFileError } from "./file-errors.ts";
import { followFile } from "./follow.ts";
import { isGlob, resolveFiles } from "./glob.ts";

export const fileInputConfigSchema = v.pipe(
  configObject({
    /** A file, or a glob (`logs/*.jsonl`) read file after file in sorted order. */
    path: v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty")),
    /**
     * jsonl: each line is any JSON value, sent as `{"data":<value>,"metadata":{"file","line"}}`;
     * raw: each line already is an envelope and is passed on byte for byte.
     */
    format: v.optional(v.picklist(["jsonl", "raw"], 'must be "jsonl" or "raw"'), "jsonl"),
    /** Keep reading what is appended, across rotation and truncation, like `tail -F`. */
    follow: v.optional(v.boolean("must be true or false"), false),
  }),
  v.forward(
    v.check((config) => !(config.follow && isGlob(config.path)), "needs one file, not a glob"),
    ["follow"],
  ),
);

type FileInputConfig = v.InferOutput<typeof fileInputConfigSchema>;
type Context = ProviderContext<FileInputConfig>;

const decoder = new TextDecoder();
const newline = Uint8Array.of(10);
/** Raw files go out in ranges of about this size: a stop is honoured between two. */
const RAW_RANGE_BYTES = 4 << 20;

async function requireFile(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error(`cannot read "${path}": not a file`);
  } catch (error) {
    if ((error as { code?: string }).code) throw new Error(describeFileError("read", path, error));
    throw error;
  }
}

/** A file's chunks; a followed file calls `onRestart` when it starts over (rotated, truncated). */
function chunksOf(
  path: string,
  context: Context,
  onRestart?: () => void,
): AsyncIterable<Uint8Array> {
  if (context.config.follow)
    return followFile(path, { ...context, ...(onRestart ? { onRestart } : {}) });
  return Bun.file(path).stream();
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
async function* rawRanges(path: string): AsyncGenerator<InputItem> {
  const handle = await open(path, "r").catch((error: unknown) => {
    throw new Error(describeFileError("read", path, error), { cause: error });
  });
  let lastByte = 10;
  try {
    const { size } = await handle.stat();
    for (let start = 0; start < size; ) {
      const end = lineEndFrom(handle.fd, Math.min(size, start + RAW_RANGE_BYTES), size);
      const last = new Uint8Array(1);
      readSync(handle.fd, last, 0, 1, end - 1);
      lastByte = last[0] ?? 10;
      yield new FileRange(path, start, end, lastByte === 10);
      start = end;
    }
  } finally {
    await handle.close();
  }
  if (lastByte !== 10) yield newline;
}

/** Raw lines go out as they are: a followed file in whole-line chunks, any other as file ranges. */
async function* rawLines(path: string, context: Context): AsyncGenerator<InputItem> {
  if (context.config.follow) {
    // A followed file may end mid-line while its writer is still busy: hand on whole lines only.
    let cutter = new WholeLineCutter();
    const restart = () => {
      dropUnfinished(path, context, cutter.end()?.length ?? 0);
      cutter = new WholeLineCutter();
    };
    for await (const chunk of chunksOf(path, context, restart)) {
      yield* cutter.push(chunk);
    }
    return;
  }
  yield* rawRanges(path);
}

async function* jsonLines(path: string, context: Context): AsyncGenerator<InputItem> {
  let splitter = new LineSplitter();
  let lineNumber = 0;
  // metadata.line counts from 1 again in a new (rotated) or truncated file.
  const restart = () => {
    dropUnfinished(path, context, splitter.end()?.length ?? 0);
    splitter = new LineSplitter();
    lineNumber = 0;
  };
  const ready: InputItem[] = [];
  const wrap = (line: Uint8Array) => {
    lineNumber++;
    const text = decoder.decode(line).trim();
    if (text === "") return;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new Error(
        `${path}:${lineNumber}: not valid JSON (format "jsonl" needs one JSON value per line)`,
      );
    }
    ready.push({ data, metadata: { file: path, line: lineNumber } });
  };
  for await (const chunk of chunksOf(path, context, restart)) {
    try {
      splitter.push(chunk, wrap);
    } finally {
      // The lines before a bad one still go out, so the error is the last thing seen.
      yield* ready.splice(0);
    }
  }
  const last = splitter.end();
  if (last && !context.config.follow) wrap(last);
  yield* ready.splice(0);
}

export const fileInput = defineInput({
  schema: fileInputConfigSchema,
  async *run(config, context) {
    const files = await resolveFiles(config.path);
    for (const path of files) {
      if (context.signal.aborted) return;
      if (!config.follow) await requireFile(path);
      yield* config.format === "raw" ? rawLines(path, context) : jsonLines(path, context);
    }
  },
});
