// A throwaway folder under the system temp dir holding a copy of the compiled binary and the files
// a test writes, so e2e tests run dstream the way a user does: no repository, no node_modules.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  assertNoNodeModulesAbove,
  dstreamBinary,
  type RunOptions,
  type RunResult,
  runProcess,
} from "../helpers/binary.ts";

export interface Workspace {
  folder: string;
  binary: string;
  /** Writes a file relative to the workspace, creating folders; returns its absolute path. */
  write(relativePath: string, content: string): string;
  /**
   * Runs the workspace's binary; cwd defaults to the workspace folder. Each run starts without the
   * checkpoints of earlier ones (tests reuse task names) unless `keepState` is set.
   */
  run(args: string[], options?: RunOptions & { keepState?: boolean }): Promise<RunResult>;
  remove(): void;
}

export async function createWorkspace(): Promise<Workspace> {
  const folder = mkdtempSync(join(tmpdir(), "dstream-e2e-"));
  assertNoNodeModulesAbove(folder);
  const binary = join(folder, "dstream");
  copyFileSync(await dstreamBinary(), binary);
  return {
    folder,
    binary,
    write(relativePath, content) {
      const path = join(folder, relativePath);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      return path;
    },
    run(args, { keepState = false, ...options } = {}) {
      if (!keepState) rmSync(join(folder, ".dstream"), { recursive: true, force: true });
      return runProcess([binary, ...args], { cwd: folder, ...options });
    },
    remove() {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
