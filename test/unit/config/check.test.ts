// checkConfig's cost: the checks after parsing grow linearly with the file (each task once asked
// whether its config is a block, and each string whether it lies in an interpolated attribute,
// by a walk over every block or interpolation of the file).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../../src/config/index.ts";
import { manyTasks } from "./growth.ts";
import { location } from "./harness.ts";

const cacheDir = mkdtempSync(join(tmpdir(), "dstream-check-cost-"));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

/** The fastest of three loads, each served by the parse cache so that only the checks count. */
async function checkTime(count: number): Promise<number> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation is the subject.
  const source = manyTasks(count, 'config = { a = "${1}", b = "text" }');
  const env = { DSTREAM_CACHE_DIR: cacheDir };
  const load = () => parseConfig(source, location, { env, cache: true }).catch(() => undefined);
  await load();
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    await load();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

test("checks grow linearly with the tasks (16× the tasks: well under 256×)", async () => {
  await checkTime(1_000); // warms the code up
  const ratio = (await checkTime(16_000)) / (await checkTime(1_000));
  expect(ratio).toBeLessThan(64);
}, 60_000);
