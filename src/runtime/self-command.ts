// How dstream re-runs itself (built-in providers are child processes of the same executable).
import { join } from "node:path";
import { isCompiledBinary } from "../version.ts";

/** argv that runs dstream with `args`: the binary itself, or bun with the source entry point. */
export function selfCommand(args: string[]): string[] {
  if (isCompiledBinary()) return [process.execPath, ...args];
  return [process.execPath, join(import.meta.dir, "..", "cli", "main.ts"), ...args];
}
