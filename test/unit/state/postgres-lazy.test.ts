// pg is loaded only when a postgres store first connects: the state layer, and opening a store,
// cost commands and file-backend runs nothing (checked in a fresh process: tests share one).
import { expect, test } from "bun:test";
import { resolve } from "node:path";

const stateIndex = resolve(import.meta.dir, "../../../src/state/index.ts");

test("pg is not loaded until a postgres store connects", () => {
  const script = `
    const loaded = () => Object.keys(require.cache).some((path) => path.includes("/node_modules/pg/"));
    const { openStateStore } = await import(${JSON.stringify(stateIndex)});
    const before = loaded();
    const store = openStateStore({
      backend: "postgres",
      connectionString: "postgres://nobody@127.0.0.1:1/none",
      schema: "public",
      table: "dstream_state",
    });
    const opened = loaded();
    await store.read("t").catch(() => {});
    console.log(JSON.stringify([before, opened, loaded()]));
  `;
  const result = Bun.spawnSync([process.execPath, "-e", script], { timeout: 30_000 });
  expect(result.stderr.toString()).toBe("");
  expect(JSON.parse(result.stdout.toString())).toEqual([false, false, true]);
});
