import { describe, expect, test } from "bun:test";
import { renderProgress, stderrProgressBar } from "../../../src/cli/progress-bar.ts";

describe("renderProgress", () => {
  test.each([
    [
      { received: 0, total: 100_000_000 },
      "pulling x [------------------------]   0% 0.0 MB / 100.0 MB",
    ],
    [
      { received: 50_000_000, total: 100_000_000 },
      "pulling x [############------------]  50% 50.0 MB / 100.0 MB",
    ],
    [
      { received: 100_000_000, total: 100_000_000 },
      "pulling x [########################] 100% 100.0 MB / 100.0 MB",
    ],
    [{ received: 2_500_000 }, "pulling x 2.5 MB"],
  ])("%j", (event, line) => {
    expect(renderProgress("pulling x", event)).toBe(line);
  });
});

describe("stderrProgressBar", () => {
  const terminal = () => {
    const written: string[] = [];
    return { isTTY: true, write: (text: string) => written.push(text), written };
  };

  test("a download that stops short leaves no open line behind", () => {
    const stream = terminal();
    const bar = stderrProgressBar("pulling x", stream);
    bar?.update({ received: 50, total: 100 });
    bar?.end();
    expect(stream.written.join("")).toBe(
      "\r\x1b[2Kpulling x [############------------]  50% 0.0 MB / 0.0 MB\n",
    );
  });

  test("a finished download ends its line once", () => {
    const stream = terminal();
    const bar = stderrProgressBar("pulling x", stream);
    bar?.update({ received: 100, total: 100 });
    bar?.end();
    expect(stream.written.join("")).toBe(
      "\r\x1b[2Kpulling x [########################] 100% 0.0 MB / 0.0 MB\n",
    );
  });

  test("off a terminal there is no bar", () => {
    expect(stderrProgressBar("pulling x", { write: () => true })).toBeUndefined();
  });
});
