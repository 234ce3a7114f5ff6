// Runs install.sh with a chosen POSIX shell, optionally as if on another machine (a `uname` that
// reports the given OS and CPU, first on PATH).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type RunResult, runProcess } from "../../helpers/binary.ts";

export const installScript = resolve(import.meta.dir, "../../../install.sh");

export interface InstallRun {
  shell?: "sh" | "dash";
  args?: string[];
  env?: Record<string, string>;
  /** `uname -s` and `uname -m` answers, e.g. ["Darwin", "arm64"]. */
  machine?: [os: string, arch: string];
}

function unameFolder(os: string, arch: string): string {
  const folder = mkdtempSync(join(tmpdir(), "dstream-uname-"));
  process.on("exit", () => rmSync(folder, { recursive: true, force: true }));
  const path = join(folder, "uname");
  writeFileSync(path, `#!/bin/sh\ncase "$1" in -s) echo "${os}" ;; -m) echo "${arch}" ;; esac\n`);
  chmodSync(path, 0o755);
  return folder;
}

export function runInstallScript(run: InstallRun = {}): Promise<RunResult> {
  const basePath = process.env.PATH ?? "/usr/bin:/bin";
  const path = run.machine ? `${unameFolder(...run.machine)}:${basePath}` : basePath;
  return runProcess([run.shell ?? "sh", installScript, ...(run.args ?? [])], {
    env: { PATH: path, ...run.env },
    timeoutMs: 60_000,
  });
}
