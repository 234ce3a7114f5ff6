// `dstream run` with an input provider pulled by tag: a bash provider pushed to the real registry,
// pulled, verified, pinned in dstream.lock.hcl and run; the second run starts from the cache.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
let registry: RunningRegistry;
let folder: string;

// Protocol v1: reads the command envelope, sends the ready handshake, writes envelopes, exits 0.
const bashProvider = `#!/usr/bin/env bash
read -r envelope
echo '{"status":"ready"}'
for n in 1 2 3; do
  echo "{\\"data\\":{\\"n\\":$n,\\"role\\":\\"$DSTREAM_ROLE\\"},\\"metadata\\":{\\"sequence\\":$n}}"
done
`;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-run-pulled-"));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("dstream run with provider_ref", () => {
  test("push, then run a pipeline whose input provider is pulled by tag", async () => {
    const binary = join(folder, "numbers");
    await writeFile(binary, bashProvider);
    await chmod(binary, 0o755);
    const reference = `${registry.host}/acme/numbers:v1`;
    const pushed = await runDstream([
      "providers",
      "push",
      reference,
      "--platform",
      `${host}=${binary}`,
    ]);
    expect(pushed.exitCode).toBe(0);

    const dir = await mkdtemp(join(folder, "project-"));
    await writeFile(
      join(dir, "dstream.hcl"),
      [
        'task "pulled" {',
        "  input {",
        `    provider_ref = "${reference}"`,
        "  }",
        "  output {",
        '    provider = "console"',
        '    config { outputFormat = "json" }',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const env = { DSTREAM_CACHE_DIR: join(dir, "cache") };
    const expected = [1, 2, 3]
      .map((n) => `{"data":{"n":${n},"role":"input"},"metadata":{"sequence":${n}}}\n`)
      .join("");

    const first = await runDstream(["run", "pulled", "--quiet"], { cwd: dir, env });
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toBe(expected);
    expect(await Bun.file(join(dir, "dstream.lock.hcl")).text()).toContain(
      `provider "${reference}" {`,
    );

    // Cached and locked: runs with the registry gone.
    await registry.kill();
    const second = await runDstream(["run", "pulled", "--quiet"], { cwd: dir, env });
    expect(second.stderr).toBe("");
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(expected);
  });
});
