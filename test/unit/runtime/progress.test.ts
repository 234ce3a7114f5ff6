// The summary line: what was relayed, and for a v2 input what was acknowledged and how long ago.
import { describe, expect, test } from "bun:test";
import type { CounterSnapshot } from "../../../src/relay/counters.ts";
import { formatSummary, statsOf } from "../../../src/runtime/progress.ts";

const counters = (overrides: Partial<CounterSnapshot> = {}): CounterSnapshot => ({
  lines: 1500,
  bytes: 3 * 1024 * 1024,
  emptyLines: 0,
  waits: 0,
  waitMs: 0,
  buffered: 0,
  bufferedMax: 0,
  checkpoints: 0,
  ackedLines: 0,
  committedAt: 0,
  ...overrides,
});

describe("formatSummary", () => {
  test("a v1 input: no word of acknowledgements", () => {
    expect(formatSummary(statsOf("t", counters(), 2000))).toBe(
      "1,500 lines, 3.0 MiB in 2.0 s (750 lines/s, 1.5 MiB/s), 0 backpressure waits",
    );
  });

  test("a v2 input: acknowledged beside relayed, and the age of the last commit", () => {
    const committedAt = Date.now() - 1200;
    const summary = formatSummary(
      statsOf("t", counters({ checkpoints: 4, ackedLines: 1000, committedAt }), 2000),
    );
    expect(summary).toMatch(
      /^1,500 lines, 3\.0 MiB in 2\.0 s \(750 lines\/s, 1\.5 MiB\/s\), 1,000 acknowledged \(last commit 1\.[2-9] s ago\), 0 backpressure waits$/,
    );
  });

  test("checkpoints met but none committed yet", () => {
    expect(formatSummary(statsOf("t", counters({ checkpoints: 2 }), 2000))).toContain(
      ", 0 acknowledged (nothing committed yet), ",
    );
  });
});
