// Shared tools of the fault suite: task files wired to the fixture providers, a run of the compiled
// binary that a test can signal, and checks that no provider process outlives dstream.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Workspace } from "../e2e/helpers.ts";
import { baseEnv, type RunResult } from "../helpers/binary.ts";

export const fixturesFolder = join(import.meta.dir, "fixtures");

export function fixture(name: string): string {
  return join(fixturesFolder, name);
}

type ConfigValue = string | number | boolean;

export interface ProviderBlock {
  /** provider_path, absolute. */
  path?: string;
  /** A built-in provider's name. */
  builtin?: string;
  config?: Record<string, ConfigValue>;
}

function providerBlock(role: "input" | "output", block: ProviderBlock): string {
  const source = block.path
    ? `    provider_path = ${JSON.stringify(block.path)}`
    : `    provider = ${JSON.stringify(block.builtin)}`;
  const values = Object.entries(block.config ?? {}).map(
    ([key, value]) => `      ${key} = ${JSON.stringify(value)}`,
  );
  const config = values.length > 0 ? `\n    config {\n${values.join("\n")}\n    }` : "";
  return `  ${role} {\n${source}${config}\n  }`;
}

/** A dstream.hcl with one task "t". */
export function taskHcl(input: ProviderBlock, output: ProviderBlock): string {
  return `task "t" {\n${providerBlock("input", input)}\n${providerBlock("output", output)}\n}\n`;
}

/** One run's own folder: its config, the fixtures' pid files, record and written-count files. */
export interface RunFolder {
  folder: string;
  config: string;
  record: string;
  written: string;
  /** Passed to dstream and so inherited by the fixtures: where they write <role>.pid. */
  env: Record<string, string>;
}

export { relays } from "../helpers/binary.ts";

/** A run's folder; `extraEnv` (e.g. a relay choice) is added to dstream's environment. */
export function runFolder(
  workspace: Workspace,
  name: string,
  extraEnv: Record<string, string> = {},
): RunFolder {
  const folder = join(workspace.folder, "runs", name.replace(/[^a-z0-9]+/gi, "-"));
  mkdirSync(folder, { recursive: true });
  return {
    folder,
    config: join(folder, "dstream.hcl"),
    record: join(folder, "record"),
    written: join(folder, "written"),
    // FAULT_PID_DIR is unique per run: every process started under it inherits it (see below).
    env: { FAULT_PID_DIR: folder, ...extraEnv },
  };
}

export interface StartedRun {
  pid: number;
  signal(signal: NodeJS.Signals): void;
  /** Resolves when dstream ends or was killed for taking longer than timeoutMs. */
  finished: Promise<RunResult & { signalCode: string | null }>;
}

/** Starts the workspace's binary in the background, bounded by timeoutMs. */
export function startRun(
  workspace: Workspace,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): StartedRun {
  const child = Bun.spawn([workspace.binary, ...args], {
    cwd: workspace.folder,
    env: { ...baseEnv(), ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs ?? 20_000);
  const finished = Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]).then(([stdout, stderr, exitCode]) => {
    clearTimeout(timer);
    return {
      exitCode: timedOut ? null : exitCode,
      signalCode: child.signalCode === null ? null : String(child.signalCode),
      stdout,
      stderr,
      timedOut,
    };
  });
  return { pid: child.pid, signal: (signal) => child.kill(signal), finished };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `path` exists; throws after timeoutMs. */
export async function waitForFile(path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!existsSync(path)) {
    if (performance.now() > deadline) throw new Error(`${path} did not appear in ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** A process that exists and is not a zombie (a killed child not yet reaped is dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Pids the fixtures of a run wrote, by role. */
export function providerPids(run: RunFolder): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const file of readdirSync(run.folder).filter((name) => name.endsWith(".pid"))) {
    pids[file.slice(0, -4)] = Number(readFileSync(join(run.folder, file), "utf8"));
  }
  return pids;
}

/**
 * Live processes whose environment holds the run's FAULT_PID_DIR, from the process table: dstream,
 * its providers (built-ins too), their children and the watchdog all inherit it.
 */
function processesOfRun(run: RunFolder): { pid: number; command: string }[] {
  const marker = `\0FAULT_PID_DIR=${run.folder}\0`;
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = `\0${readFileSync(`/proc/${pid}/environ`, "latin1")}`;
      if (!environ.includes(marker) || !isAlive(pid)) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      found.push({ pid, command });
    } catch {
      // Gone while we looked, or not ours to read.
    }
  }
  return found;
}

/**
 * Processes of the run still alive after a grace of `withinMs` (for asynchronous kills): the
 * providers' pid files, and the process table (anything that inherited the run's environment).
 * Call it once dstream has ended.
 */
export async function survivors(run: RunFolder, withinMs = 3000): Promise<string[]> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const alive = Object.entries(providerPids(run))
      .filter(([, pid]) => isAlive(pid))
      .map(([role, pid]) => `${role} (pid ${pid})`);
    const known = new Set(Object.values(providerPids(run)));
    for (const { pid, command } of processesOfRun(run)) {
      if (!known.has(pid)) alive.push(`${command} (pid ${pid})`);
    }
    if (alive.length === 0 || performance.now() > deadline) return alive;
    await sleep(20);
  }
}

/** Exactly what numbered-input.py writes for lines 1..count. */
export function numberedLines(count: number, first = 1): string {
  const lines: string[] = [];
  for (let n = first; n <= count; n++) {
    lines.push(`{"data":{"n":${n}},"metadata":{"sequence":${n}}}\n`);
  }
  return lines.join("");
}

/** Lines compared per slice; between slices other runs' timers get their turn. */
const COMPARE_SLICE_LINES = 20_000;

/**
 * Whether `bytes` is exactly numbered-input.py's lines 1..count, compared slice by slice so that a
 * record of millions of lines neither builds one huge string nor stalls concurrent runs' timers.
 */
export async function isNumberedRecord(bytes: Uint8Array, count: number): Promise<boolean> {
  let offset = 0;
  for (let first = 1; first <= count; first += COMPARE_SLICE_LINES) {
    const expected = Buffer.from(
      numberedLines(Math.min(count, first + COMPARE_SLICE_LINES - 1), first),
      "latin1",
    );
    if (!expected.equals(bytes.subarray(offset, offset + expected.length))) return false;
    offset += expected.length;
    await sleep(0);
  }
  return offset === bytes.length;
}

export function countLines(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}

/** How many lines numbered-input.py flushed before it exited (0 when it died before writing). */
export function writtenCount(run: RunFolder): number {
  return existsSync(run.written) ? Number(readFileSync(run.written, "utf8")) : 0;
}

export function recordedBytes(run: RunFolder): Uint8Array {
  return existsSync(run.record) ? readFileSync(run.record) : new Uint8Array(0);
}

export function recorded(run: RunFolder): string {
  return existsSync(run.record) ? readFileSync(run.record, "latin1") : "";
}
