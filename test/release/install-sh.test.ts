// install.sh without a network: POSIX syntax under sh, dash and shellcheck, and the errors it gives
// before downloading anything (bad options, machines dstream ships no binary for).
import { describe, expect, test } from "bun:test";
import { runProcess } from "../helpers/binary.ts";
import { installScript, runInstallScript } from "./helpers/install-script.ts";

describe("install.sh syntax", () => {
  test.each([["sh"], ["dash"]])("%s -n accepts it", async (shell) => {
    const result = await runProcess([shell, "-n", installScript]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });

  test("shellcheck finds nothing in it as POSIX sh", async () => {
    const result = await runProcess(["shellcheck", "--shell=sh", installScript]);
    expect(result.stdout).toBe("");
    expect(result.exitCode).toBe(0);
  });
});

describe("install.sh refuses before downloading", () => {
  test.each([
    [["--bogus"], "error: unknown option --bogus (use --version TAG, --prefix DIR)"],
    [["--prefix"], "error: --prefix needs a folder, e.g. --prefix /usr/local"],
    [["--version"], "error: --version needs a value, e.g. --version v0.1.0"],
  ])("%p is a usage error, exit 2", async (args, message) => {
    const result = await runInstallScript({ shell: "dash", args });
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.exitCode).toBe(2);
  });

  test.each([
    [
      ["Linux", "riscv64"],
      "error: dstream has no binary for Linux riscv64 (it ships x86_64 and arm64)",
    ],
    [
      ["FreeBSD", "amd64"],
      "error: dstream has no binary for FreeBSD (it ships Linux, macOS and Windows)",
    ],
    [
      ["MINGW64_NT-10.0", "aarch64"],
      "error: dstream has no binary for Windows on aarch64 (only x86_64)",
    ],
  ])("a %p machine is told there is no binary for it, exit 2", async (machine, message) => {
    const result = await runInstallScript({ shell: "dash", machine: machine as [string, string] });
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.exitCode).toBe(2);
  });
});
