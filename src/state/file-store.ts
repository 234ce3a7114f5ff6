// The file backend: one JSON file per task under the state folder (.dstream/ beside the config),
// replaced atomically (temp file, fsync, rename, fsync of the folder).
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { DstreamError, errorCode, messageOf } from "../errors.ts";
import { lockTaskFile } from "./run-lock.ts";
import type { RunLock, RunOwner, StateRecord, StateStore } from "./store.ts";

/** A task name as a file name: safe on every platform, reversible, readable for plain names. */
export function taskFileName(task: string): string {
  return encodeURIComponent(task).replace(/\./g, "%2E").replace(/\*/g, "%2A");
}

export class FileStateStore implements StateStore {
  constructor(readonly where: string) {}

  private recordPath(task: string): string {
    return join(this.where, `${taskFileName(task)}.checkpoint.json`);
  }

  async read(task: string): Promise<StateRecord | undefined> {
    const path = this.recordPath(task);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw new DstreamError(
        "STATE",
        `cannot read the state of task "${task}" (${path}): ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    try {
      const record = JSON.parse(text) as StateRecord;
      if (typeof record !== "object" || record === null || !("checkpoint" in record)) {
        throw new Error("not a checkpoint record");
      }
      return record;
    } catch (error) {
      throw new DstreamError(
        "STATE",
        `the state of task "${task}" (${path}) is damaged: ${messageOf(error)} (dstream state reset or set repairs it)`,
        { cause: error },
      );
    }
  }

  async write(task: string, record: StateRecord): Promise<void> {
    const path = this.recordPath(task);
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      await mkdir(this.where, { recursive: true, mode: 0o700 });
      const handle = await open(temporary, "w", 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(record)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
      await syncFolder(this.where);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {});
      throw new DstreamError(
        "STATE",
        `cannot write the state of task "${task}" (${path}): ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  async reset(task: string): Promise<boolean> {
    const path = this.recordPath(task);
    try {
      await rm(path);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return false;
      throw new DstreamError(
        "STATE",
        `cannot reset the state of task "${task}" (${path}): ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    await syncFolder(this.where);
    return true;
  }

  async lock(task: string, owner: RunOwner): Promise<RunLock> {
    await mkdir(this.where, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new DstreamError(
        "STATE",
        `cannot create the state folder ${this.where}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    });
    return lockTaskFile(task, join(this.where, `${taskFileName(task)}.lock`), owner);
  }
}

/** A rename is durable once its folder is synced (POSIX; Windows cannot open a folder). */
async function syncFolder(folder: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await open(folder, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
