// The release scripts' own errors: one line, exit 1, naming what is wrong and what to run.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runProcess } from "../helpers/binary.ts";

const repoRoot = resolve(import.meta.dir, "../..");

test("build.ts --only with an unknown platform lists the known ones", async () => {
  const result = await runProcess(
    [process.execPath, "scripts/build.ts", "--only", "linux-riscv64"],
    {
      cwd: repoRoot,
    },
  );
  expect(result.stderr).toBe(
    'error: unknown platform "linux-riscv64" (known: linux-x64, linux-arm64, linux-x64-musl, darwin-x64, darwin-arm64, windows-x64)\n',
  );
  expect(result.exitCode).toBe(1);
});

test("the npm generator refuses a dist/ without the binaries and says to build them", async () => {
  const empty = mkdtempSync(join(tmpdir(), "dstream-empty-dist-"));
  try {
    const result = await runProcess(
      [process.execPath, "scripts/npm/generate.ts", "--dist", empty, "--out", join(empty, "npm")],
      { cwd: repoRoot },
    );
    expect(result.stderr).toBe(
      `error: ${empty}/dstream-linux-x64 is missing: run \`bun run build:all\` first\n`,
    );
    expect(result.exitCode).toBe(1);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
