// OS pipes made by dstream itself (libc pipe2 through bun:ffi, Linux), so the relay worker can own
// raw, blocking file descriptors: Bun's own pipes are streams that cannot move between threads.
// The pipes are also enlarged (F_SETPIPE_SZ), which cuts syscalls per megabyte. Elsewhere the
// relay falls back to Bun's streams on the main thread.
import { closeSync, constants, openSync, readSync } from "node:fs";
import { loadLibc, POLLOUT, waitFd } from "../os/libc.ts";

export interface OsPipe {
  read: number;
  write: number;
}

const O_CLOEXEC = 0o2000000;
const F_SETPIPE_SZ = 1031;
const FIONREAD = 0x541b;
/** 1 MiB: the default for unprivileged processes' maximum (/proc/sys/fs/pipe-max-size). */
const PIPE_BYTES = 1 << 20;

/**
 * A blocking, close-on-exec pipe; undefined where raw pipes are not available (not Linux, no libc
 * found, or DSTREAM_RELAY=streams to force the portable path).
 */
export function createOsPipe(): OsPipe | undefined {
  if (process.platform !== "linux" || process.env.DSTREAM_RELAY === "streams") return undefined;
  const library = loadLibc();
  if (!library) return undefined;
  const fds = new Int32Array(2);
  if (library.pipe2(fds, O_CLOEXEC) !== 0) return undefined;
  const [read, write] = [fds[0] ?? -1, fds[1] ?? -1];
  // A bigger pipe is only an optimisation: a refusal (lower limit, older kernel) is fine.
  library.fcntl(write, F_SETPIPE_SZ, PIPE_BYTES);
  return { read, write };
}

/** Blocks until `fd` can take a write (or the reader is gone), at most `timeoutMs`. */
export function waitWritable(fd: number, timeoutMs: number): void {
  waitFd(fd, POLLOUT, timeoutMs);
}

/**
 * Bytes waiting in a live process's pipe `fd` that it has not read (Linux: the pipe reopened
 * through /proc, then FIONREAD), or undefined where that cannot be known.
 */
export function unreadPipeBytes(pid: number, fd = 0): number | undefined {
  if (process.platform !== "linux") return undefined;
  const library = loadLibc();
  if (!library) return undefined;
  let probe: number | undefined;
  try {
    probe = openSync(`/proc/${pid}/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
    return pipeBytesAvailable(probe);
  } catch {
    // Gone already, or not a pipe.
    return undefined;
  } finally {
    if (probe !== undefined) closeQuietly(probe);
  }
}

/** Bytes waiting in the pipe `fd` is an end of (FIONREAD); undefined where that cannot be known. */
export function pipeBytesAvailable(fd: number): number | undefined {
  if (process.platform !== "linux") return undefined;
  const library = loadLibc();
  if (!library) return undefined;
  const count = new Int32Array(1);
  return library.ioctl(fd, FIONREAD, count) === 0 ? (count[0] ?? 0) : undefined;
}

/**
 * What waits in a pipe whose reader has exited, read through another read end of it (`fd`): the
 * bytes its reader never took. At most `limit` bytes; never blocks.
 */
export function unreadBytesOf(fd: number, limit: number): Uint8Array {
  const available = Math.min(pipeBytesAvailable(fd) ?? 0, limit);
  if (available <= 0) return new Uint8Array(0);
  const bytes = new Uint8Array(available);
  let filled = 0;
  while (filled < available) {
    const read = readSync(fd, bytes, filled, available - filled, null);
    if (read <= 0) break;
    filled += read;
  }
  return bytes.subarray(0, filled);
}

/**
 * Closes the pipe `fd` writes to (its reader sees EOF) but keeps the number taken: `fd` becomes
 * the write end of a pipe nobody reads, so a later write fails with EPIPE instead of landing in
 * whatever file reused the number. Another thread may still hold `fd` (the relay worker); the
 * owner closes it once that thread is done. False where it cannot be done (then close it).
 */
export function retireWriteEnd(fd: number): boolean {
  const library = loadLibc();
  if (!library) return false;
  const fds = new Int32Array(2);
  if (library.pipe2(fds, O_CLOEXEC) !== 0) return false;
  const [read, write] = [fds[0] ?? -1, fds[1] ?? -1];
  closeQuietly(read);
  const replaced = library.dup2(write, fd) === fd;
  closeQuietly(write);
  return replaced;
}

/** Closes a descriptor that may be closed already. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}
