// null built-in as a real process: discards everything, counts lines, says so on stderr.
import { describe, expect, test } from "bun:test";
import { launchers, ready, runToEnd } from "./helpers.ts";

describe.each(launchers)("null ($label)", (launcher) => {
  test("discards every line and logs the count", async () => {
    const input = '{"data":1}\n{"data":2}\n\n{"data":3}';
    const result = await runToEnd(await launcher.command("null"), { role: "output", input });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(ready);
    // The blank line is a line on the wire; the last line's missing newline is added.
    expect(result.stderr).toBe("discarded 4 lines (34 bytes)\n");
  });

  test("swallows 200,000 lines spanning many chunks", async () => {
    const line = `{"data":"${"x".repeat(90)}"}\n`;
    const input = line.repeat(200_000);
    const result = await runToEnd(await launcher.command("null"), { role: "output", input });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(`discarded 200000 lines (${input.length} bytes)\n`);
  });

  test("refuses any config key", async () => {
    const result = await runToEnd(await launcher.command("null"), {
      role: "output",
      config: { verbose: true },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(
      '{"status":"error","message":"verbose: unknown setting (this provider takes none)"}\n',
    );
  });
});
