// A task's run lock in the file backend: `<task>.lock` created exclusively (O_EXCL) and held for
// the run's life; a lock whose process is gone (same host) is taken over, any other fails at once.
import { link, open, readFile, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { DstreamError, ExitCode, errorCode, messageOf } from "../errors.ts";
import { isProcessAlive } from "../os/process-alive.ts";
import type { RunLock, RunOwner } from "./store.ts";

async function readOwner(path: string): Promise<RunOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as RunOwner;
  } catch {
    return undefined;
  }
}

/**
 * A lock file without a readable owner younger than this may be one another run has just created
 * and not written yet: it is waited for, never taken over.
 */
export const UNWRITTEN_LOCK_GRACE_MS = 5000;

/**
 * Whether the lock's owner is certainly gone: same host and no such process, or no readable owner
 * in a file older than the grace. undefined: not known yet (a lock being written).
 */
async function ownerGone(owner: RunOwner | undefined, path: string): Promise<boolean | undefined> {
  if (owner) return owner.host === hostname() && !isProcessAlive(owner.pid);
  const modified = await stat(path).then(
    (stats) => stats.mtimeMs,
    () => 0,
  );
  return Date.now() - modified > UNWRITTEN_LOCK_GRACE_MS ? true : undefined;
}

/** Moves a dead owner's lock aside atomically; gives it back if a live one had replaced it meanwhile. */
async function takeOver(path: string, seen: string): Promise<void> {
  const aside = `${path}.${process.pid}-${crypto.randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return; // Another run took it over first.
  }
  if ((await readFile(aside, "utf8").catch(() => "")) !== seen) {
    await link(aside, path).catch(() => {});
  }
  await rm(aside, { force: true });
}

export async function lockTaskFile(task: string, path: string, owner: RunOwner): Promise<RunLock> {
  const content = `${JSON.stringify(owner)}\n`;
  const waitUntil = Date.now() + UNWRITTEN_LOCK_GRACE_MS;
  for (let attempt = 0; attempt < 3; ) {
    try {
      const handle = await open(path, "wx", 0o600);
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return {
        async release() {
          // Only our own lock: a takeover after we were thought dead must not be undone.
          if ((await readFile(path, "utf8").catch(() => "")) === content)
            await rm(path, { force: true });
        },
      };
    } catch (error) {
      if (errorCode(error) !== "EEXIST") {
        throw new DstreamError(
          "STATE",
          `cannot lock task "${task}" (${path}): ${messageOf(error)}`,
          {
            cause: error,
          },
        );
      }
    }
    const seen = await readFile(path, "utf8").catch(() => "");
    const holder = await readOwner(path);
    const gone = await ownerGone(holder, path);
    if (gone === undefined && Date.now() < waitUntil) {
      await Bun.sleep(20);
      continue;
    }
    if (gone === undefined) {
      throw new DstreamError(
        "TASK_LOCKED",
        `task "${task}" is being started by another run: ${path} names no owner yet (remove it if no dstream runs this task)`,
        { exitCode: ExitCode.usage },
      );
    }
    if (!gone) {
      throw new DstreamError(
        "TASK_LOCKED",
        `task "${task}" is already running: pid ${holder?.pid} on ${holder?.host} since ${holder?.since} holds ${path}`,
        { exitCode: ExitCode.usage },
      );
    }
    await takeOver(path, seen);
    attempt++;
  }
  throw new DstreamError(
    "TASK_LOCKED",
    `task "${task}": cannot take the lock ${path} (other runs keep taking it)`,
    {
      exitCode: ExitCode.usage,
    },
  );
}
