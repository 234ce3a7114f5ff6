// A range of a file that an input hands on as it is. The SDK copies it to stdout in the kernel
// (Linux: sendfile), so its bytes never pass through JavaScript; elsewhere by reads and writes.
import { closeSync, openSync, readSync } from "node:fs";
import {
  EAGAIN,
  EINTR,
  EINVAL,
  ENOSYS,
  EPIPE,
  type Libc,
  loadLibc,
  POLLOUT,
  setNonBlocking,
  waitFd,
} from "../os/libc.ts";
import type { StdoutWriter } from "./stdout-writer.ts";

export class FileRange {
  /**
   * Bytes [start, end) of the file at `path`; `endsLine` says whether its last byte is \n (a stop
   * between two items must never cut a line).
   */
  constructor(
    readonly path: string,
    readonly start: number,
    readonly end: number,
    readonly endsLine: boolean,
  ) {}
}

/** One sendfile call moves at most this much (a range of the file input, in one call). */
const SEND_BYTES = 4 << 20;
/** A full pipe is waited on in slices this long, so signal handlers still run between them. */
const WAIT_SLICE_MS = 50;
/** How often the copy lets the event loop turn (signal handlers, timers). */
const YIELD_EVERY_MS = 20;
const STDOUT = 1;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class CopyError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Copies `range` to stdout after what `stdout` already holds. */
export async function copyFileRange(range: FileRange, stdout: StdoutWriter): Promise<void> {
  if (range.end <= range.start) return;
  await stdout.flush();
  const fd = openSync(range.path, "r");
  try {
    const libc = loadLibc();
    const offset = libc ? await sendBlocking(libc, fd, range) : range.start;
    if (offset < range.end) await copyByReads(fd, range, offset, stdout);
  } finally {
    closeSync(fd);
  }
}

/**
 * With stdout blocking for the copy (Bun makes it non-blocking), each sendfile moves a whole slice
 * in one call and sleeps in the kernel while the pipe is full, instead of waking for every page
 * the reader frees; a signal still interrupts it. The flags are restored afterwards.
 */
async function sendBlocking(libc: Libc, fd: number, range: FileRange): Promise<number> {
  const wasNonBlocking = setNonBlocking(STDOUT, false);
  try {
    return await sendAll(libc, fd, range);
  } finally {
    if (wasNonBlocking) setNonBlocking(STDOUT, true);
  }
}

/** sendfile until the range is out; returns where it stopped (the start, where it is refused). */
async function sendAll(libc: Libc, fd: number, range: FileRange): Promise<number> {
  const offset = new BigInt64Array([BigInt(range.start)]);
  const at = () => Number(offset[0]);
  let yielded = performance.now();
  while (at() < range.end) {
    // Signal handlers and timers run between calls, but not after every one: each turn costs.
    if (performance.now() - yielded >= YIELD_EVERY_MS) {
      await yieldToEventLoop();
      yielded = performance.now();
    }
    const sent = libc.sendfile(STDOUT, fd, offset, Math.min(SEND_BYTES, range.end - at()));
    if (sent > 0) continue;
    if (sent === 0) throw new CopyError(`${range.path} became shorter while it was read`);
    const errno = libc.errno();
    if (errno === EAGAIN) {
      // stdout is non-blocking and its pipe full: the reader sets the pace.
      waitFd(STDOUT, POLLOUT, WAIT_SLICE_MS);
    } else if (errno === EPIPE) {
      throw new CopyError("stdout was closed by its reader (EPIPE)", "EPIPE");
    } else if ((errno === EINVAL || errno === ENOSYS) && at() === range.start) {
      // This stdout takes no sendfile (some terminals, old kernels): copy by reads.
      return at();
    } else if (errno !== EINTR) {
      throw new CopyError(`cannot copy ${range.path} to stdout (errno ${errno})`);
    }
  }
  return at();
}

async function copyByReads(
  fd: number,
  range: FileRange,
  from: number,
  stdout: StdoutWriter,
): Promise<void> {
  const buffer = new Uint8Array(Math.min(SEND_BYTES, range.end - from));
  for (let at = from; at < range.end; ) {
    const read = readSync(fd, buffer, 0, Math.min(buffer.length, range.end - at), at);
    if (read === 0) throw new CopyError(`${range.path} became shorter while it was read`);
    // The writer copies what it cannot write at once, so the buffer is free again after this.
    await stdout.write(buffer.subarray(0, read));
    at += read;
  }
}
