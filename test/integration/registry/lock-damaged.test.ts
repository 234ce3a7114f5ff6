// A damaged dstream.lock.hcl: one line naming the file, line and column, and how to fix it (exit 2).
import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDstream } from "../../helpers/registry.ts";

const folder = await mkdtemp(join(tmpdir(), "dstream-damaged-lock-"));
afterAll(() => rm(folder, { recursive: true, force: true }));

test.each([
  ['provider "localhost:5000/acme/x:v1" {\n  digest = }\n', "2:12: Invalid expression"],
  [
    'provider "localhost:5000/acme/x:v1" {\n  digest = "sha256:1"\n}\n',
    '2:3: provider "localhost:5000/acme/x:v1" needs digest = "sha256:<64 hex> or sha512:<128 hex>"',
  ],
])("%j", async (lock, message) => {
  await writeFile(
    join(folder, "dstream.hcl"),
    'task "t" {\n  input {\n    provider_ref = "localhost:5000/acme/x:v1"\n  }\n  output {\n    provider = "null"\n  }\n}\n',
  );
  await writeFile(join(folder, "dstream.lock.hcl"), lock);
  const result = await runDstream(["providers", "pull"], { cwd: folder });
  expect(result.stderr).toBe(
    `error: dstream.lock.hcl:${message} (fix it, or delete the file and run dstream providers lock)\n`,
  );
  expect(result.exitCode).toBe(2);
});
