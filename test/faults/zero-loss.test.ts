// Zero loss, measured with sequence numbers: every line the input flushed before its end or its
// SIGTERM reaches the output once, in order — under stop signals at random moments, a stalling
// output and an output reading one line per millisecond.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { createWorkspace, type Workspace } from "../e2e/helpers.ts";
import {
  countLines,
  fixture,
  isNumberedRecord,
  numberedLines,
  type RunFolder,
  recorded,
  recordedBytes,
  relays,
  runFolder,
  sleep,
  startRun,
  survivors,
  taskHcl,
  waitForFile,
  writtenCount,
} from "./harness.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

/** mulberry32: the moments are random but a failure names its seed and reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function numberedPipeline(run: RunFolder, input: object = {}, output: object = {}): void {
  writeFileSync(
    run.config,
    taskHcl(
      { path: fixture("numbered-input.py"), config: { writtenFile: run.written, ...input } },
      { path: fixture("recording-output.py"), config: { recordFile: run.record, ...output } },
    ),
  );
}

/** What a run delivered, reduced to facts that fit in an assertion message. */
async function delivery(run: RunFolder) {
  const written = writtenCount(run);
  const got = recordedBytes(run);
  return {
    written,
    exact: await isNumberedRecord(got, written),
    receivedLines: countLines(got),
  };
}

/** Runs an endless numbered input into the recorder and stops dstream with `signal` at a moment. */
async function stopAtRandomMoment(
  name: string,
  relayEnv: Record<string, string>,
  signal: NodeJS.Signals,
  delayMs: number,
) {
  const run = runFolder(workspace, name, relayEnv);
  numberedPipeline(run, { count: 0 });
  const started = startRun(workspace, ["run", "t", "-c", run.config, "--quiet"], {
    env: run.env,
  });
  await waitForFile(`${run.folder}/input.pid`);
  await sleep(delayMs);
  started.signal(signal);
  const result = await started.finished;
  return { name, delayMs, result, delivery: await delivery(run), survivors: await survivors(run) };
}

const PARALLEL = 5;
/** 50 runs per signal on the default relay; fewer on the portable one to bound the suite's time. */
const signalRuns = relays.flatMap(([relay, relayEnv]) =>
  (["SIGTERM", "SIGINT"] as const).map(
    (signal) => [signal, relay, relayEnv, relay === "raw pipes" ? 50 : 20] as const,
  ),
);

describe.each(signalRuns)(
  "%s at random moments under load (%s relay)",
  (signal, relay, relayEnv, count) => {
    test(`${count} runs: exit 0, every flushed line delivered once, in order`, async () => {
      const seed = (signal === "SIGTERM" ? 6_001 : 6_002) + (relay === "streams" ? 10 : 0);
      const next = random(seed);
      const outcomes = [];
      for (let batch = 0; batch < count / PARALLEL; batch++) {
        const runs = Array.from({ length: PARALLEL }, (_, index) => {
          const name = `${relay}-${signal}-${batch * PARALLEL + index}`;
          return stopAtRandomMoment(name, relayEnv, signal, Math.floor(next() * 700));
        });
        outcomes.push(...(await Promise.all(runs)));
      }
      const bad = outcomes.filter(
        (outcome) =>
          outcome.result.exitCode !== 0 ||
          outcome.result.stderr !== "" ||
          !outcome.delivery.exact ||
          outcome.survivors.length > 0,
      );
      expect(bad.map((outcome) => ({ seed, ...outcome }))).toEqual([]);
      // The moments really fell mid-stream: most runs had sent a good many lines.
      const busy = outcomes.filter((outcome) => outcome.delivery.written > 1000);
      expect(busy.length).toBeGreaterThan(count / 2);
    }, 300_000);
  },
);

describe.each(relays)(
  "SIGHUP, as when the terminal or SSH session closes (%s relay)",
  (relay, relayEnv) => {
    test("stops the run in order like SIGTERM: exit 0, every flushed line delivered once", async () => {
      const outcome = await stopAtRandomMoment(`${relay}-SIGHUP`, relayEnv, "SIGHUP", 400);
      expect(outcome.result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(outcome.delivery.exact).toBe(true);
      expect(outcome.delivery.written).toBeGreaterThan(100);
      expect(outcome.survivors).toEqual([]);
    }, 30_000);
  },
);

describe("a signal before the providers start", () => {
  test("dstream ends by the signal with nothing started, or stops cleanly with nothing lost", async () => {
    const next = random(6_003);
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, async (_, index) => {
        const run = runFolder(workspace, `early-${index}`);
        numberedPipeline(run, { count: 0 });
        const started = startRun(workspace, ["run", "t", "-c", run.config, "--quiet"], {
          env: run.env,
        });
        await sleep(Math.floor(next() * 300));
        started.signal("SIGTERM");
        const result = await started.finished;
        return { result, delivery: await delivery(run), survivors: await survivors(run) };
      }),
    );
    for (const { result, delivery, survivors } of outcomes) {
      expect(survivors).toEqual([]);
      if (result.signalCode === "SIGTERM") {
        expect(delivery.written).toBe(0);
      } else {
        expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
          exitCode: 0,
          stderr: "",
        });
        expect(delivery.exact).toBe(true);
      }
    }
  }, 60_000);
});

describe.each(relays)("slow outputs, backpressure (%s relay)", (relay, relayEnv) => {
  test("an output that stalls 2.5 s, then resumes, gets all 200,000 lines; reading paused meanwhile", async () => {
    const run = runFolder(workspace, `${relay}-stall`, relayEnv);
    numberedPipeline(run, { count: 200_000 }, { stallAfter: 100, stallMs: 2500 });
    const stats = `${run.folder}/stats.json`;
    const result = await startRun(
      workspace,
      ["run", "t", "-c", run.config, "--quiet", "--buffer-bytes", "1MiB", "--stats-json", stats],
      { env: run.env, timeoutMs: 60_000 },
    ).finished;
    expect(result).toMatchObject({ exitCode: 0, stderr: "" });
    expect(await delivery(run)).toEqual({ written: 200_000, exact: true, receivedLines: 200_000 });
    const counters = JSON.parse(readFileSync(stats, "utf8"));
    expect(counters.lines).toBe(200_000);
    expect(counters.waits).toBeGreaterThan(0);
    expect(counters.waitMs).toBeGreaterThan(1000);
    // Bounded memory: at most the buffer plus one read chunk was ever held.
    expect(counters.bufferedMax).toBeLessThanOrEqual(1024 * 1024 + 256 * 1024);
  }, 90_000);

  test("SIGTERM during a stall: the stop waits for the output and loses nothing", async () => {
    const run = runFolder(workspace, `${relay}-stall-stop`, relayEnv);
    numberedPipeline(run, { count: 0 }, { stallAfter: 1000, stallMs: 2000 });
    const started = startRun(
      workspace,
      ["run", "t", "-c", run.config, "--quiet", "--buffer-bytes", "256KiB"],
      { env: run.env, timeoutMs: 30_000 },
    );
    await waitForFile(`${run.folder}/input.pid`);
    await sleep(500);
    started.signal("SIGTERM");
    const result = await started.finished;
    expect(result).toMatchObject({ exitCode: 0, stderr: "" });
    const { written, exact } = await delivery(run);
    expect(written).toBeGreaterThan(1000);
    expect(exact).toBe(true);
    expect(await survivors(run)).toEqual([]);
  }, 60_000);

  test("a stop whose drain outlasts --shutdown-timeout: exit 1, and what the killed output had not read is reported lost", async () => {
    const run = runFolder(workspace, `${relay}-slow-drain`, relayEnv);
    numberedPipeline(run, { count: 0 }, { delayMs: 1 });
    const started = startRun(
      workspace,
      ["run", "t", "-c", run.config, "--quiet", "--shutdown-timeout", "1s"],
      { env: run.env, timeoutMs: 30_000 },
    );
    await waitForFile(`${run.folder}/input.pid`);
    await sleep(1500);
    started.signal("SIGTERM");
    const result = await started.finished;
    // Killed with a backlog: the counts say what was relayed, what was not, and (raw pipes) how
    // much the killed output had not read of its stdin.
    const match =
      /^error: task "t": providers did not stop within 1 s of SIGTERM and were killed \((\d+) lines relayed, (\d+) in flight(?:; the killed output had not read ([\d.]+) (B|KiB|MiB) of its stdin)?\)\n$/.exec(
        result.stderr,
      );
    expect({ exitCode: result.exitCode, stderr: match ? "as expected" : result.stderr }).toEqual({
      exitCode: 1,
      stderr: "as expected",
    });
    const [relayed, inFlight] = [Number(match?.[1]), Number(match?.[2])];
    // What the output recorded is a prefix of what was relayed, in order.
    const got = recorded(run);
    const receivedLines = got.split("\n").length - 1;
    const written = writtenCount(run);
    // On the streams relay, lines in Bun's pipe writer are in flight until a write settles, and
    // the killed output may have read some of them: only relayed + in flight bounds what it got.
    const reachable = relay === "raw pipes" ? relayed : relayed + inFlight;
    expect({
      inOrder: got === numberedLines(receivedLines),
      receivedOfRelayed: receivedLines <= reachable,
      // The input may have been killed before it could say how many it wrote (0).
      readOfWritten: written === 0 || relayed + inFlight <= written,
    }).toEqual({ inOrder: true, receivedOfRelayed: true, readOfWritten: true });
    if (relay === "raw pipes") {
      // The unread bytes are the relayed lines the output never took (plus at most the start of
      // a line in flight), less what it had read but not recorded yet (its read buffer).
      const unit = { B: 1, KiB: 1024, MiB: 1024 * 1024 }[match?.[4] ?? ""] ?? 0;
      const unread = Number(match?.[3]) * unit;
      const notTaken = numberedLines(relayed).length - got.length;
      const line = 60;
      expect(unread).toBeGreaterThan(0);
      expect(unread).toBeLessThanOrEqual(notTaken + line + 0.05 * unit);
      expect(notTaken - unread).toBeLessThan(64 * 1024 + 0.05 * unit);
    }
  }, 60_000);

  test("an output reading one line per millisecond gets all 1,000 lines in order", async () => {
    const run = runFolder(workspace, `${relay}-one-per-ms`, relayEnv);
    numberedPipeline(run, { count: 1000 }, { delayMs: 1 });
    const result = await startRun(workspace, ["run", "t", "-c", run.config, "--quiet"], {
      env: run.env,
      timeoutMs: 30_000,
    }).finished;
    expect(result).toMatchObject({ exitCode: 0, stderr: "" });
    expect(await delivery(run)).toEqual({ written: 1000, exact: true, receivedLines: 1000 });
  }, 60_000);
});
