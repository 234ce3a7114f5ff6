// Serialises the writers of one file across processes: a sibling `<file>.lock` created exclusively
// (O_EXCL), waited for with a bound, and taken over when its owner died or left it far too long.
import { link, open, readFile, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { errorCode } from "../../errors.ts";
import { isProcessAlive } from "../../os/process-alive.ts";

export interface FileLockOptions {
  /** How long to wait for another holder; then LockWaitTimeout. */
  waitMs?: number;
  /** A lock untouched this long was abandoned, whatever its PID says. */
  staleMs?: number;
}

const WAIT_MS = 10_000;
/** Holders keep the lock for milliseconds (read, change, write the file). */
const STALE_MS = 30_000;
const POLL_MS = 20;

/** The wait for another holder ran out; the caller turns it into a message naming its file. */
export class LockWaitTimeout extends Error {
  constructor(
    readonly lockPath: string,
    readonly waitedMs: number,
  ) {
    super(`${lockPath} stayed locked for ${waitedMs} ms`);
  }
}

/** Moves a stale lock aside atomically; gives it back if a fresh one had replaced it meanwhile. */
async function takeOverIfStale(lockPath: string, staleMs: number): Promise<void> {
  let content: string;
  let touchedAt: number;
  try {
    content = await readFile(lockPath, "utf8");
    touchedAt = (await stat(lockPath)).mtimeMs;
  } catch {
    return; // Released meanwhile: the next try creates it.
  }
  const [pid, host] = content.split(" ");
  const ownerGone = host === hostname() && !isProcessAlive(Number(pid));
  if (!ownerGone && Date.now() - touchedAt < staleMs) return;
  const aside = `${lockPath}.${process.pid}-${crypto.randomUUID()}.stale`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // Another waiter took it over first.
  }
  if ((await readFile(aside, "utf8").catch(() => "")) !== content) {
    // Not the lock judged stale: restore it unless yet another process holds the name now.
    await link(aside, lockPath).catch(() => {});
  }
  await rm(aside, { force: true });
}

async function acquire(lockPath: string, token: string, options: FileLockOptions): Promise<void> {
  const waitMs = options.waitMs ?? WAIT_MS;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockPath, "wx");
      try {
        await handle.writeFile(token);
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
    }
    await takeOverIfStale(lockPath, options.staleMs ?? STALE_MS);
    if (Date.now() >= deadline) throw new LockWaitTimeout(lockPath, waitMs);
    await Bun.sleep(POLL_MS + Math.random() * POLL_MS);
  }
}

/** Runs `work` while holding `<path>.lock`; releases it after, unless another process took it over. */
export async function withFileLock<T>(
  path: string,
  work: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const lockPath = `${path}.lock`;
  const token = `${process.pid} ${hostname()} ${crypto.randomUUID()}`;
  await acquire(lockPath, token, options);
  try {
    return await work();
  } finally {
    if ((await readFile(lockPath, "utf8").catch(() => "")) === token) {
      await rm(lockPath, { force: true });
    }
  }
}
