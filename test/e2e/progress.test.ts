// The live display: on a terminal one line redrawn at most 4 times a second, never off a terminal
// or with --quiet; the summary line at the end either way.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runProcess } from "../helpers/binary.ts";
import { createWorkspace, type Workspace } from "./helpers.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
  workspace.write(
    "slow.hcl",
    'task "t" {\n  input {\n    provider = "counter"\n    config {\n      interval = 100\n      maxCount = 15\n    }\n  }\n  output {\n    provider = "null"\n  }\n}\n',
  );
});
afterAll(() => workspace.remove());

const CLEAR_LINE = "\r\u001b[2K";

/** Runs dstream with a terminal as stdin/stdout/stderr (`script` gives it one, as a shell would). */
function onTerminal(args: string) {
  return runProcess(["script", "-qec", `${workspace.binary} ${args}`, "/dev/null"], {
    cwd: workspace.folder,
    env: { TERM: "xterm-256color", NO_COLOR: "1" },
    timeoutMs: 30_000,
  });
}

describe("live display", () => {
  test("on a terminal: redrawn in place, at most 4 times a second, then the summary", async () => {
    const started = performance.now();
    const result = await onTerminal("run t -c slow.hcl");
    const seconds = (performance.now() - started) / 1000;
    expect(result.exitCode).toBe(0);
    const parts = result.stdout.split(CLEAR_LINE);
    const redraws = parts.filter((part) => /^t: [\d,]+ events\/s/.test(part));
    expect(redraws.length).toBeGreaterThan(2);
    // +1: a provider's log line redraws the live line under it.
    expect(redraws.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
    expect(redraws.at(-1)).toMatch(
      /^t: [\d,]+ events\/s · [\d,]+ lines · .* · [\d,]+ waits · buffered [^\n]*$/,
    );
    // A provider's log line starts on a cleared line and ends its own, with the live line after it.
    const logLine = parts.find((part) => part.startsWith("[t/output] discarded 15 lines"));
    expect(logLine).toMatch(
      /^\[t\/output\] discarded 15 lines \(\d+ bytes\)\r?\nt: [\d,]+ events\/s/,
    );
    expect(result.stdout).toMatch(/t: 15 lines, [\d.]+ KiB in [\d.]+ s/);
  });

  test("--quiet: no display and no summary, even on a terminal", async () => {
    const result = await onTerminal("run t -c slow.hcl --quiet");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain("events/s");
    expect(result.stdout).not.toContain("t: 15 lines");
  });

  test("off a terminal: no display, only the summary on stderr", async () => {
    const result = await workspace.run(["run", "t", "-c", "slow.hcl"], { env: { NO_COLOR: "1" } });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toContain(CLEAR_LINE);
    expect(result.stderr).toMatch(/^\[t\/output\] discarded 15 lines .*\n\[info\] t: 15 lines, /);
  });
});
