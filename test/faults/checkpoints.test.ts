// Protocol v2 under faults, checked by sequence numbers with providers written in Python from
// DESIGN.md alone: every v1/v2 pairing, clean stops then restarts (every event exactly once), and
// kill -9 of dstream, of either provider or of both at seeded random moments, then restarts
// (every event at least once, first deliveries in order, each restart right after the checkpoint).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, type Workspace } from "../e2e/helpers.ts";
import {
  fixture,
  providerPids,
  type RunFolder,
  relays,
  runFolder,
  sleep,
  startRun,
  survivors,
  taskHcl,
  waitForFile,
} from "./harness.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

/** mulberry32: random moments that a failure's seed reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pairing {
  input: 1 | 2;
  output: 1 | 2;
  count: number;
  every?: number;
  delayMs?: number;
}

function pipeline(run: RunFolder, pairing: Pairing): void {
  writeFileSync(
    run.config,
    taskHcl(
      {
        path: fixture("v2-input.py"),
        config: {
          protocol: pairing.input,
          count: pairing.count,
          every: pairing.every ?? 50,
          delayMs: pairing.delayMs ?? 0,
          commitsFile: join(run.folder, "commits"),
          startsFile: join(run.folder, "starts"),
        },
      },
      {
        path: fixture("v2-output.py"),
        config: { protocol: pairing.output, recordFile: run.record },
      },
    ),
  );
}

const numbersIn = (path: string): number[] =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => {
          const value = JSON.parse(line) as number | { data?: { n: number }; n?: number };
          if (typeof value === "number") return value;
          return value.data?.n ?? value.n ?? Number.NaN;
        })
    : [];

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);

function run(folder: RunFolder, extra: string[] = []) {
  // A run's providers write their pid files anew: an old one would be waited for and killed instead.
  for (const role of ["input", "output"])
    rmSync(join(folder.folder, `${role}.pid`), { force: true });
  return startRun(workspace, ["run", "t", "-c", folder.config, "--quiet", ...extra], {
    env: folder.env,
    timeoutMs: 30_000,
  });
}

/** kill -9 of a provider: one that already ended (dstream stops the other when one dies) is fine. */
function killProvider(pid: number | undefined): void {
  if (pid === undefined) throw new Error("a provider wrote no pid file");
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

async function committed(folder: RunFolder): Promise<number | null> {
  const shown = await workspace.run(["state", "show", "t", "-c", folder.config], {
    keepState: true,
  });
  expect(shown.exitCode).toBe(0);
  const checkpoint = (JSON.parse(shown.stdout) as { checkpoint: { n: number } | null }).checkpoint;
  return checkpoint?.n ?? null;
}

describe.each(relays)("%s relay", (relayName, relayEnv) => {
  describe("every pairing of protocol versions, run to the end and run again", () => {
    test.each([
      [2, 2],
      [2, 1],
      [1, 2],
      [1, 1],
    ] as const)(
      "input v%d, output v%d",
      async (input, output) => {
        const folder = runFolder(workspace, `${relayName} pairing ${input}-${output}`, relayEnv);
        pipeline(folder, { input, output, count: 400, every: 40, delayMs: 2 });
        const first = await run(folder).finished;
        expect(first).toMatchObject({ exitCode: 0 });
        expect(numbersIn(folder.record)).toEqual(range(1, 400));
        const warned = first.stderr.includes("speaks protocol v1: checkpoints are committed once");
        expect(warned).toBe(input === 2 && output === 1);
        if (input === 2) {
          expect(await committed(folder)).toBe(400);
          // Commits reached the input while it ran, in order, never past what was delivered.
          const commits = numbersIn(join(folder.folder, "commits"));
          expect(commits.length).toBeGreaterThan(0);
          expect(commits).toEqual([...commits].sort((a, b) => a - b));
          expect(Math.max(...commits)).toBeLessThanOrEqual(400);
        } else {
          expect(await committed(folder)).toBeNull();
        }
        const second = await run(folder).finished;
        expect(second).toMatchObject({ exitCode: 0 });
        // A v2 input resumes after its checkpoint (nothing left); a v1 input starts over.
        const expected = input === 2 ? range(1, 400) : [...range(1, 400), ...range(1, 400)];
        expect(numbersIn(folder.record)).toEqual(expected);
        expect(numbersIn(join(folder.folder, "starts"))).toEqual(input === 2 ? [1, 401] : [1, 1]);
        expect(await survivors(folder)).toEqual([]);
      },
      60_000,
    );
  });

  test.each([
    ["SIGTERM", 2],
    ["SIGINT", 2],
    ["SIGHUP", 2],
    ["SIGTERM", 1],
  ] as const)(
    "%s at random moments, then restarts (output v%d): every event exactly once, in order",
    async (signal, output) => {
      const seed = 0x5eed + output + signal.length;
      const next = random(seed);
      const folder = runFolder(workspace, `${relayName} stops ${signal} ${output}`, relayEnv);
      const count = 1500;
      pipeline(folder, { input: 2, output, count, every: 25, delayMs: 1 });
      for (let stop = 0; stop < 3; stop++) {
        const started = run(folder);
        await waitForFile(join(folder.folder, "input.pid"));
        await sleep(100 + next() * 500);
        started.signal(signal);
        const result = await started.finished;
        expect({ seed, stop, exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({
          exitCode: 0,
        });
        expect(await survivors(folder)).toEqual([]);
      }
      const last = await run(folder).finished;
      expect(last.exitCode).toBe(0);
      expect({ seed, delivered: numbersIn(folder.record) }).toEqual({
        seed,
        delivered: range(1, count),
      });
      const starts = numbersIn(join(folder.folder, "starts"));
      expect(starts[0]).toBe(1);
      expect(starts.slice(1).every((start) => start > 1)).toBe(true);
    },
    90_000,
  );

  test.each([["dstream"], ["input"], ["output"], ["both providers"]] as const)(
    "kill -9 of %s at random moments, then restarts: every event at least once, each restart right after the committed checkpoint",
    async (target) => {
      const seed = 0x9e11 + target.length;
      const next = random(seed);
      const folder = runFolder(workspace, `${relayName} kill ${target}`, relayEnv);
      const count = 2500;
      pipeline(folder, { input: 2, output: 2, count, every: 20, delayMs: 1 });
      const checkpoints: (number | null)[] = [];
      for (let kill = 0; kill < 3; kill++) {
        const started = run(folder);
        await waitForFile(join(folder.folder, "input.pid"));
        await waitForFile(join(folder.folder, "output.pid"));
        await sleep(150 + next() * 600);
        const pids = providerPids(folder);
        if (target === "dstream") process.kill(started.pid, "SIGKILL");
        if (target === "input" || target === "both providers") killProvider(pids.input);
        if (target === "output" || target === "both providers") killProvider(pids.output);
        const result = await started.finished;
        expect({ seed, kill, timedOut: result.timedOut }).toEqual({ seed, kill, timedOut: false });
        expect(await survivors(folder)).toEqual([]);
        checkpoints.push(await committed(folder));
      }
      const last = await run(folder).finished;
      expect(last.exitCode).toBe(0);
      const delivered = numbersIn(folder.record);
      // At least once: nothing is missing.
      expect({ seed, missing: range(1, count).filter((n) => !new Set(delivered).has(n)) }).toEqual({
        seed,
        missing: [],
      });
      // First deliveries stay in order.
      const seen = new Set<number>();
      const firsts = delivered.filter((n) => {
        if (seen.has(n)) return false;
        seen.add(n);
        return true;
      });
      expect(firsts).toEqual(range(1, count));
      // Each restart starts right after the checkpoint committed before it: never from the
      // beginning once one exists, and what comes again is only what followed it.
      expect(checkpoints.some((n) => n !== null)).toBe(true);
      expect({ seed, starts: numbersIn(join(folder.folder, "starts")) }).toEqual({
        seed,
        starts: [1, ...checkpoints.map((n) => (n ?? 0) + 1)],
      });
    },
    120_000,
  );
});
