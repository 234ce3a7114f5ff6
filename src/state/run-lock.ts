// A task's run lock in the file backend: `<task>.lock` created exclusively (O_EXCL) and held for
// the run's life; a lock whose process is gone (same host) is taken over, any other fails at once.
import { link, open, readFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { DstreamError, ExitCode, messageOf } from "../errors.ts";
import type { RunLock, RunOwner } from "./store.ts";

const errorCode = (error: unknown) => (error as { code?: string } | null)?.code;

function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === "EPERM";
  }
}

async function readOwner(path: string): Promise<RunOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as RunOwner;
  } catch {
    return undefined;
  }
}

/** Whether the lock's owner is certainly gone: same host and no such process (or unreadable and old). */
function ownerGone(owner: RunOwner | undefined): boolean {
  if (!owner) return true;
  return owner.host === hostname() && !isProcessAlive(owner.pid);
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
  for (let attempt = 0; attempt < 3; attempt++) {
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
    if (!ownerGone(holder)) {
      throw new DstreamError(
        "TASK_LOCKED",
        `task "${task}" is already running: pid ${holder?.pid} on ${holder?.host} since ${holder?.since} holds ${path}`,
        { exitCode: ExitCode.usage },
      );
    }
    await takeOver(path, seen);
  }
  throw new DstreamError(
    "TASK_LOCKED",
    `task "${task}": cannot take the lock ${path} (other runs keep taking it)`,
    {
      exitCode: ExitCode.usage,
    },
  );
}
