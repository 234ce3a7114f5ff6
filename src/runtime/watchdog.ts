// Providers must not outlive dstream, even when it is killed with SIGKILL: a tiny sh process holds
// a pipe from us and kills the providers' process groups when that pipe closes.
import type { Subprocess } from "bun";
import { killGroup } from "./process-group.ts";

export interface Watchdog {
  /** The providers have exited: what they left in their groups is killed, the watchdog retired. */
  release(): void;
}

export function startWatchdog(processGroups: number[]): Watchdog {
  if (process.platform === "win32") return { release() {} };
  let watcher: Subprocess<"pipe", "ignore", "ignore"> | undefined;
  try {
    watcher = Bun.spawn(
      [
        "/bin/sh",
        "-c",
        // `read` returns when our end of the pipe closes, which the kernel does when dstream dies.
        // POSIX form: dash (Debian's /bin/sh) refuses `kill -KILL -- -N`.
        'read _; for group in "$@"; do kill -s KILL -- "-$group" 2>/dev/null; done',
        "dstream-watchdog",
        ...processGroups.map(String),
      ],
      { stdin: "pipe", stdout: "ignore", stderr: "ignore", detached: true },
    );
    watcher.unref();
  } catch {
    // Without /bin/sh we still stop providers on every path except our own SIGKILL.
    return {
      release() {
        for (const group of processGroups) killGroup(group);
      },
    };
  }
  return {
    release() {
      // The providers have exited: whatever is left in their groups was started by them and
      // must not outlive the run.
      for (const group of processGroups) killGroup(group);
      watcher?.kill("SIGKILL");
    },
  };
}
