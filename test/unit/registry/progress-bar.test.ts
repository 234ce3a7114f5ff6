import { describe, expect, test } from "bun:test";
import { renderProgress } from "../../../src/registry/progress-bar.ts";

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
