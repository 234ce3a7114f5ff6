// A provider's process group after its leader exited: what is left in it (a background child the
// provider started), named for the user, and killed, so that nothing a provider started outlives it.
import { errorCode } from "../errors.ts";

/** Whether any process is left in group `group` (POSIX; never on Windows, which has none). */
export function groupAlive(group: number): boolean {
  if (process.platform === "win32" || group <= 0) return false;
  try {
    process.kill(-group, 0);
    return true;
  } catch (error) {
    // EPERM: a member exists but is not ours to signal.
    return errorCode(error) === "EPERM";
  }
}

/** SIGKILL to every process left in the group; one already empty is fine. */
export function killGroup(group: number): void {
  if (process.platform === "win32" || group <= 0) return;
  try {
    process.kill(-group, "SIGKILL");
  } catch {
    // Empty already.
  }
}

/** The processes of a group as "name (pid N)", from /proc on Linux; [] where it cannot be read. */
export async function describeGroup(group: number, limit = 5): Promise<string[]> {
  if (process.platform !== "linux") return [];
  const { readdir, readFile } = await import("node:fs/promises");
  const found: string[] = [];
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (found.length >= limit || !/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so from the last ')'.
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      if (Number(fields[2]) !== group) continue;
      found.push(`${stat.slice(stat.indexOf("(") + 1, close)} (pid ${entry})`);
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}
