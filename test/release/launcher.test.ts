// The npm launcher: runs the binary with the same arguments, passes exit codes and signals through,
// honours DSTREAM_BINARY_PATH and explains a missing or wrong-platform binary package.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeMainPackage } from "../../scripts/npm/generate.ts";
import { hostReleasePlatform, releasePlatforms } from "../../scripts/platforms.ts";
import { runProcess } from "../helpers/binary.ts";

let root: string;
let launcher: string;

function script(name: string, body: string): string {
  const path = join(root, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function runLauncher(args: string[], binary?: string) {
  return runProcess(["node", launcher, ...args], {
    env: binary ? { DSTREAM_BINARY_PATH: binary } : {},
    timeoutMs: 10_000,
  });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "dstream-launcher-"));
  launcher = join(writeMainPackage(join(root, "lib/node_modules")), "bin/dstream.cjs");
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("with DSTREAM_BINARY_PATH", () => {
  test("passes arguments and the exit code through", async () => {
    const binary = script("args.sh", 'printf "%s|" "$@"; echo; exit 7');
    const result = await runLauncher(["run", "my task", "--json"], binary);
    expect(result.stdout).toBe("run|my task|--json|\n");
    expect(result.exitCode).toBe(7);
  });

  test.each([
    ["TERM", 143],
    ["KILL", 137],
    ["INT", 130],
  ])("a child killed by SIG%s exits %d, never 0", async (signal, code) => {
    const binary = script(`kill-${signal}.sh`, `kill -${signal} $$`);
    expect((await runLauncher([], binary)).exitCode).toBe(code);
  });

  test("forwards SIGTERM to the binary and exits with its status", async () => {
    const binary = script(
      "trap.sh",
      'trap "echo stopping; exit 42" TERM\necho ready\nwhile :; do sleep 0.05; done',
    );
    const child = Bun.spawn(["node", launcher], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DSTREAM_BINARY_PATH: binary },
      stdout: "pipe",
    });
    const reader = child.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("ready\n");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    expect(await child.exited).toBe(42);
    clearTimeout(timer);
    const rest = await reader.read();
    expect(new TextDecoder().decode(rest.value)).toBe("stopping\n");
  });

  test("a binary that cannot be started is a one-line error, exit 1", async () => {
    const missing = join(root, "no-such-dstream");
    const result = await runLauncher(["version"], missing);
    expect(result.stderr).toBe(`error: cannot run ${missing}: spawn ${missing} ENOENT\n`);
    expect(result.exitCode).toBe(1);
  });
});

describe("without DSTREAM_BINARY_PATH", () => {
  const host = hostReleasePlatform();
  if (!host)
    throw new Error(`tests run on a release platform; ${process.platform}-${process.arch} is none`);
  const hostLabel = `${host.os}-${host.arch}${host.libc ? ` (${host.libc})` : ""}`;

  test("a missing platform package says which one and how to fix it", async () => {
    const result = await runLauncher(["version"]);
    expect(result.stderr).toBe(
      `error: the package ${host.npmPackage} with dstream's binary for ${hostLabel} is not installed; it is an optional dependency: reinstall dstream without --omit=optional or --no-optional (or set DSTREAM_BINARY_PATH)\n`,
    );
    expect(result.exitCode).toBe(1);
  });

  test("node_modules installed on another platform is named as the cause", async () => {
    const other = releasePlatforms.find((platform) => platform.name !== host.name);
    if (!other) throw new Error("the platform table has one entry");
    const dir = join(root, "lib/node_modules/dstream/node_modules", other.npmPackage);
    mkdirSync(join(dir, "bin"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: other.npmPackage }));
    writeFileSync(join(dir, "bin", other.packagedBinaryName), "");
    const result = await runLauncher(["version"]);
    expect(result.stderr).toBe(
      `error: the package ${host.npmPackage} with dstream's binary for ${hostLabel} is not installed; found ${other.npmPackage} instead: node_modules was installed on another platform; reinstall dstream on this machine (or set DSTREAM_BINARY_PATH)\n`,
    );
    expect(result.exitCode).toBe(1);
  });
});
