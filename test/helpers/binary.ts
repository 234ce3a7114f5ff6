// The compiled dstream binary for tests, built once per test process into a folder with no
// node_modules above it, and a bounded way to run it (or any command) as a real child process.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { compile } from "../../scripts/build.ts";

export interface RunOptions {
  cwd?: string;
  /** The child's whole environment is a few basics plus these: nothing leaks in from the test run. */
  env?: Record<string, string>;
  stdin?: string;
  /** Kill the child after this long; the result then has timedOut set. */
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const DEFAULT_TIMEOUT_MS = 20_000;

let cacheHome: string | undefined;

/** One cache folder per test process, so tests neither read nor fill the developer's ~/.cache. */
function testCacheHome(): string {
  if (!cacheHome) {
    const folder = mkdtempSync(join(tmpdir(), "dstream-test-cache-"));
    process.on("exit", () => rmSync(folder, { recursive: true, force: true }));
    cacheHome = folder;
  }
  return cacheHome;
}

/**
 * The relays a suite runs its cases on: raw pipes on the relay worker (Linux's default) and the
 * portable Bun-streams path; only the streams path when the tests themselves run with
 * DSTREAM_RELAY=streams (CI runs the e2e and fault suites a second time so, as other platforms
 * have only that path).
 */
export const streamsOnly = process.env.DSTREAM_RELAY === "streams";
export const relays: [string, Record<string, string>][] = streamsOnly
  ? [["streams", { DSTREAM_RELAY: "streams" }]]
  : [
      ["raw pipes", {}],
      ["streams", { DSTREAM_RELAY: "streams" }],
    ];

/**
 * PATH, HOME and a private XDG_CACHE_HOME only, so DSTREAM_* or NO_COLOR from the developer's
 * shell cannot change results; DSTREAM_RELAY=streams alone is passed on (see relays).
 */
export function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    XDG_CACHE_HOME: testCacheHome(),
    ...(streamsOnly ? { DSTREAM_RELAY: "streams" } : {}),
  };
}

export async function runProcess(command: string[], options: RunOptions = {}): Promise<RunResult> {
  const child = Bun.spawn(command, {
    cwd: options.cwd ?? process.cwd(),
    env: { ...baseEnv(), ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { exitCode: timedOut ? null : exitCode, stdout, stderr, timedOut };
}

const repoRoot = resolve(import.meta.dir, "../..");

/** Fails when a node_modules folder sits in `folder` or any folder above it. */
export function assertNoNodeModulesAbove(folder: string): void {
  for (let current = resolve(folder); ; current = dirname(current)) {
    if (existsSync(join(current, "node_modules"))) {
      throw new Error(`${current}/node_modules exists: the binary must run without one`);
    }
    if (dirname(current) === current) return;
  }
}

let built: Promise<string> | undefined;

/** Path of a freshly compiled binary (dist/ is rebuilt by others while tests run, so not that). */
export function dstreamBinary(): Promise<string> {
  built ??= (async () => {
    const folder = mkdtempSync(join(tmpdir(), "dstream-bin-"));
    process.on("exit", () => rmSync(folder, { recursive: true, force: true }));
    assertNoNodeModulesAbove(folder);
    const outfile = join(folder, "dstream");
    const previous = process.cwd();
    // compile() names its entry points relative to the repository root.
    if (previous !== repoRoot) process.chdir(repoRoot);
    try {
      await compile({ outfile });
    } finally {
      if (previous !== repoRoot) process.chdir(previous);
    }
    return outfile;
  })();
  return built;
}

/** Runs the compiled binary. */
export async function runDstream(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runProcess([await dstreamBinary(), ...args], options);
}

/** Runs dstream from source with this Bun, for CLI tests that need no compiled binary. */
export function runDstreamSource(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runProcess([process.execPath, join(repoRoot, "src/cli/main.ts"), ...args], options);
}
