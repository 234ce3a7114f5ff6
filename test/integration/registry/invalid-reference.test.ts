// A provider_ref whose port is out of range is a config error found by validate (exit 2): no
// command sends a request for it, let alone retries one.
import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDstream } from "../../helpers/registry.ts";

const folder = await mkdtemp(join(tmpdir(), "dstream-bad-ref-"));
afterAll(() => rm(folder, { recursive: true, force: true }));

const reference = "localhost:99999/acme/in:v1";
const reason = `invalid OCI reference "${reference}": the port 99999 of "localhost:99999" is not between 1 and 65535`;

test.each(["validate", "run t", "providers pull"])(
  "dstream %s refuses a port out of range before any request (exit 2)",
  async (command) => {
    await writeFile(
      join(folder, "dstream.hcl"),
      `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
    );
    const result = await runDstream(command.split(" "), { cwd: folder });
    expect(result.stderr).toBe(
      `error: dstream.hcl:3:5: task "t" › input › provider_ref: ${reason}\n`,
    );
    expect(result.exitCode).toBe(2);
  },
);

test("providers inspect refuses it too (exit 2)", async () => {
  const result = await runDstream(["providers", "inspect", reference]);
  expect(result.stderr).toBe(`error: ${reason}\n`);
  expect(result.exitCode).toBe(2);
});
