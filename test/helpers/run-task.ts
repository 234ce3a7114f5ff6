// A task's folder and a `dstream run` of it stopped part way: what the connectors' run tests share.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseEnv, dstreamBinary } from "./binary.ts";

/** Makes folders holding a dstream.hcl; `removeAll()` (in afterAll) deletes every one made. */
export function taskFolders(prefix: string) {
  const made: string[] = [];
  return {
    /** `hcl` may be made from the folder's path (for files the task writes there). */
    make(hcl: string | ((folder: string) => string)): string {
      const folder = mkdtempSync(join(tmpdir(), prefix));
      made.push(folder);
      writeFileSync(join(folder, "dstream.hcl"), typeof hcl === "string" ? hcl : hcl(folder));
      return folder;
    },
    removeAll(): void {
      for (const folder of made) rmSync(folder, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `dstream run t` in `folder`, waits (at most 60 s) until `progress()` reaches `target`,
 * then sends `signal`; a run that does not end within 20 s of it is killed.
 */
export async function runUntil(
  folder: string,
  progress: () => Promise<number>,
  target: number,
  signal: "SIGKILL" | "SIGTERM",
): Promise<{ exitCode: number; stderr: string }> {
  const child = Bun.spawn(
    [await dstreamBinary(), "run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"],
    { env: baseEnv(), stdout: "pipe", stderr: "pipe" },
  );
  const deadline = Date.now() + 60_000;
  while ((await progress()) < target && Date.now() < deadline) await Bun.sleep(100);
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  clearTimeout(timer);
  return { exitCode, stderr };
}
