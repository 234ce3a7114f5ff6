// Whether dstream was started with its stdout closed (`dstream list >&-`): Bun then opens
// /dev/null there, so every write would succeed into nothing.
import { readFileSync, readlinkSync } from "node:fs";

/** O_CLOEXEC as /proc shows it among a descriptor's flags (octal). */
const CLOSE_ON_EXEC = 0o2000000;

/**
 * True when fd 1 is /dev/null marked close-on-exec: a descriptor inherited through exec never is,
 * so the process opened it itself, over a closed stdout. Linux only (it reads /proc); elsewhere
 * false.
 */
export function stdoutWasClosed(): boolean {
  if (process.platform !== "linux") return false;
  try {
    if (readlinkSync("/proc/self/fd/1") !== "/dev/null") return false;
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync("/proc/self/fdinfo/1", "utf8"))?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & CLOSE_ON_EXEC) !== 0;
  } catch {
    return false;
  }
}
