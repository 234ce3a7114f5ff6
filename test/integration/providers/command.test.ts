// dstream __provider: hidden from help, and clear usage errors for a wrong name or role.
import { describe, expect, test } from "bun:test";
import { builtinProviderNames } from "../../../src/protocol/builtins.ts";
import { launchers, runToEnd } from "./helpers.ts";

/** The built-ins as error messages list them. */
const BUILTINS = builtinProviderNames.join(", ");

describe.each(launchers)("dstream __provider ($label)", (launcher) => {
  test.each([
    ["bogus", "", `unknown built-in provider "bogus" (built-ins: ${BUILTINS})`],
    ["file", "", 'built-in provider "file" needs DSTREAM_ROLE=input|output'],
    ["counter", "output", 'built-in provider "counter" cannot be an output (DSTREAM_ROLE)'],
    ["console", "input", 'built-in provider "console" cannot be an input (DSTREAM_ROLE)'],
  ] as const)("%s with DSTREAM_ROLE=%s: usage error, exit 2", async (name, role, message) => {
    const [executable, ...args] = await launcher.command(name);
    const result = await runToEnd([executable ?? "", ...args], role ? { role } : {});
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`error: ${message}\n`);
  });

  test.each([
    ["hello", 'the first stdin line is not JSON; expected {"command":"run","config":{...}}'],
    [
      '{"command":"apply","config":{}}',
      "the first stdin line is not a command envelope: command must be run, init, plan, status or destroy",
    ],
  ])("first line %s: handshake error, exit 1", async (firstLine, message) => {
    const result = await runToEnd(await launcher.command("counter"), { role: "input", firstLine });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(`${JSON.stringify({ status: "error", message })}\n`);
    expect(result.stderr).toBe(`error: ${message}\n`);
  });

  test("is not listed by dstream --help", async () => {
    const [executable, ...args] = await launcher.command("counter");
    const help = await runToEnd([executable ?? "", ...args.slice(0, -2), "--help"], {});
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("COMMANDS");
    expect(help.stdout).not.toContain("__provider");
  });
});
