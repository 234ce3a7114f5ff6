// The documented TypeScript example provider, compiled to its own binary, run by dstream through
// provider_path exactly as examples/provider-ts/dstream.hcl declares it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildWordsProvider } from "../../examples/provider-ts/build.ts";
import { createWorkspace, type Workspace } from "./helpers.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
  mkdirSync(join(workspace.folder, "dist"));
  await buildWordsProvider(join(workspace.folder, "dist", "words-provider"));
  copyFileSync(
    join(import.meta.dir, "../../examples/provider-ts/dstream.hcl"),
    join(workspace.folder, "dstream.hcl"),
  );
});
afterAll(() => workspace.remove());

test("dstream run words: the example provider's words reach the console", async () => {
  const result = await workspace.run(["run", "words", "--quiet"], { timeoutMs: 30_000 });
  expect(result.stderr).toMatch(/^(\[words\/input\] .*\n)*$/);
  expect(result.exitCode).toBe(0);
  const lines = result.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(10);
  expect(lines[0]).toMatch(/^Message #1: \{.*"hello".*\}$/);
  expect(lines[9]).toMatch(/^Message #10: \{.*"provider".*\}$/);
});
