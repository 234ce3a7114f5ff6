// How dstream re-runs itself (built-in providers are child processes of the same executable).
import { join } from "node:path";

/** True inside a `bun build --compile` binary, whose modules live in Bun's virtual filesystem. */
export function isCompiledBinary(): boolean {
  return import.meta.dir.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/.test(import.meta.dir);
}

/** argv that runs dstream with `args`: the binary itself, or bun with the source entry point. */
export function selfCommand(args: string[]): string[] {
  if (isCompiledBinary()) return [process.execPath, ...args];
  return [process.execPath, join(import.meta.dir, "..", "cli", "main.ts"), ...args];
}
