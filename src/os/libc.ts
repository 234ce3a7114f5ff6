// The few libc calls Bun does not expose, through bun:ffi (Linux: glibc or musl); null elsewhere,
// and callers then take their portable path.
import { dlopen, FFIType, type Pointer, ptr, read } from "bun:ffi";

export interface Libc {
  pipe2(fds: Int32Array, flags: number): number;
  fcntl(fd: number, command: number, argument: number): number;
  poll(fds: Int32Array, count: number, timeoutMs: number): number;
  ioctl(fd: number, request: number, argument: Int32Array): number;
  /** Copies up to `count` bytes from `inFd` at `offset[0]` to `outFd`, advancing the offset. */
  sendfile(outFd: number, inFd: number, offset: BigInt64Array, count: number): number;
  /** Makes `newFd` refer to what `oldFd` does, closing what it referred to before, atomically. */
  dup2(oldFd: number, newFd: number): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
}

export const EAGAIN = 11;
export const EINTR = 4;
export const EINVAL = 22;
export const ENOSYS = 38;
export const EPIPE = 32;
export const POLLIN = 1;
export const POLLOUT = 4;

const libcNames = [
  "libc.so.6",
  `libc.musl-${process.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`,
  "libc.so",
];

let libc: Libc | null | undefined;

export function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== "linux") return libc;
  for (const name of libcNames) {
    try {
      const library = dlopen(name, {
        pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
        fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
        ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
        sendfile: {
          args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u64],
          returns: FFIType.i64,
        },
        dup2: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        __errno_location: { args: [], returns: FFIType.ptr },
      });
      const symbols = library.symbols;
      libc = {
        pipe2: (fds, flags) => symbols.pipe2(ptr(fds), flags),
        fcntl: (fd, command, argument) => symbols.fcntl(fd, command, argument),
        poll: (fds, count, timeoutMs) => symbols.poll(ptr(fds), count, timeoutMs),
        ioctl: (fd, request, argument) => symbols.ioctl(fd, request, ptr(argument)),
        sendfile: (outFd, inFd, offset, count) =>
          Number(symbols.sendfile(outFd, inFd, ptr(offset), count)),
        dup2: (oldFd, newFd) => symbols.dup2(oldFd, newFd),
        errno: () => errnoAt(symbols.__errno_location() as Pointer | null),
      };
      break;
    } catch {
      // Try the next name.
    }
  }
  return libc;
}

/** Reads the int that __errno_location() points at. */
function errnoAt(pointer: Pointer | null): number {
  return pointer === null ? 0 : read.i32(pointer, 0);
}

/** Waits (blocking, at most `timeoutMs`) until `fd` can be read (POLLIN) or written (POLLOUT). */
export function waitFd(fd: number, events: number, timeoutMs: number): boolean {
  const library = loadLibc();
  if (!library) return false;
  // struct pollfd { int fd; short events; short revents; }
  const pollfd = new Int32Array([fd, events]);
  return library.poll(pollfd, 1, timeoutMs) > 0;
}

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/**
 * Sets or clears O_NONBLOCK on `fd`; answers whether it was set before (to restore it), or
 * undefined where that cannot be done.
 */
export function setNonBlocking(fd: number, nonBlocking: boolean): boolean | undefined {
  const library = loadLibc();
  if (!library) return undefined;
  const flags = library.fcntl(fd, F_GETFL, 0);
  if (flags < 0) return undefined;
  const was = (flags & O_NONBLOCK) !== 0;
  if (was === nonBlocking) return was;
  const next = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  return library.fcntl(fd, F_SETFL, next) === 0 ? was : undefined;
}
