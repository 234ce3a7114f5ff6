// console built-in as a real process: the three formats byte for byte, bad lines, config, SIGTERM.
import { describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchers, ready, residentBytes, runToEnd, startProvider } from "./helpers.ts";

const lines = [
  '{"data":{"value":1,"timestamp":"2026-01-01T00:00:00.000Z"},"metadata":{"provider":"counter","sequence":1}}',
  '{"data":{"value":2,"timestamp":"2026-01-01T00:00:01.000Z"},"metadata":{"provider":"counter","sequence":2}}',
  '{"data":"plain text","metadata":{}}',
];
const input = `${lines.join("\n")}\n`;

describe.each(launchers)("console ($label)", (launcher) => {
  test("simple (the default): Message #n and the compact JSON of data", async () => {
    const result = await runToEnd(await launcher.command("console"), { role: "output", input });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      `${ready}Message #1: {"value":1,"timestamp":"2026-01-01T00:00:00.000Z"}\n` +
        `Message #2: {"value":2,"timestamp":"2026-01-01T00:00:01.000Z"}\n` +
        `Message #3: "plain text"\n`,
    );
    expect(result.stderr).toBe("");
  });

  test("structured: the whole envelope, metadata included, indented by 2 spaces", async () => {
    const result = await runToEnd(await launcher.command("console"), {
      role: "output",
      config: { outputFormat: "structured" },
      input: `${lines[0]}\n`,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${ready}{
  "data": {
    "value": 1,
    "timestamp": "2026-01-01T00:00:00.000Z"
  },
  "metadata": {
    "provider": "counter",
    "sequence": 1
  }
}
`);
  });

  test("json: each line exactly as received, a missing last newline added", async () => {
    const odd = '{"data": 1,   "metadata" : {}}\n{"data":"é"}';
    const result = await runToEnd(await launcher.command("console"), {
      role: "output",
      config: { outputFormat: "json" },
      input: odd,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${ready}${odd}\n`);
  });

  test("numbers messages across many batches", async () => {
    const many = Array.from({ length: 2500 }, (_, index) => `{"data":${index + 1}}\n`).join("");
    const result = await runToEnd(await launcher.command("console"), {
      role: "output",
      input: many,
    });
    const printed = result.stdout.split("\n").slice(1, -1);
    expect(printed).toHaveLength(2500);
    expect(printed).toEqual(printed.map((_, index) => `Message #${index + 1}: ${index + 1}`));
  });

  test("a line that is not JSON fails with its line number", async () => {
    const result = await runToEnd(await launcher.command("console"), {
      role: "output",
      input: `${lines[0]}\nnot json\n`,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe("error: line 2 is not valid JSON\n");
  });

  test("an unknown outputFormat is refused in the handshake", async () => {
    const result = await runToEnd(await launcher.command("console"), {
      role: "output",
      config: { outputFormat: "pretty" },
    });
    const message = 'outputFormat: must be "simple", "structured" or "json"';
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(`${JSON.stringify({ status: "error", message })}\n`);
    expect(result.stderr).toBe(`error: invalid config: ${message}\n`);
  });

  test("stops reading stdin while its own stdout is not read: memory stays flat", async () => {
    const folder = mkdtempSync(join(tmpdir(), "dstream-console-"));
    const source = join(folder, "input.jsonl");
    writeFileSync(
      source,
      `${JSON.stringify({ command: "run", config: { outputFormat: "json" } })}\n` +
        `{"data":"${"z".repeat(200)}"}\n`.repeat(300_000),
    );
    const fifo = join(folder, "stdout");
    Bun.spawnSync(["mkfifo", fifo]);
    const fd = openSync(fifo, "r+");
    const child = Bun.spawn(await launcher.command("console"), {
      env: { PATH: process.env.PATH ?? "", DSTREAM_ROLE: "output" },
      stdin: Bun.file(source),
      stdout: fd,
      stderr: "ignore",
    });
    // The same provider idle on an open stdin: the memory a console needs to exist.
    const idle = startProvider(await launcher.command("console"), { role: "output" });
    try {
      await idle.waitForLines(1);
      await Bun.sleep(1500);
      const baseline = await residentBytes(idle.child.pid);
      const blocked = await residentBytes(child.pid);
      // Reading the 60 MB of input into memory would show here.
      expect(blocked - baseline).toBeLessThan(20 * 1024 * 1024);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill("SIGKILL");
      idle.child.kill("SIGKILL");
      await child.exited;
      closeSync(fd);
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("SIGTERM: prints what is already on stdin, then exits 0", async () => {
    const console = startProvider(await launcher.command("console"), { role: "output" });
    await console.waitForLines(1);
    console.write(`${lines[0]}\n${lines[1]}\n`);
    await console.waitForLines(3);
    console.write(`${lines[2]}\n`);
    console.child.kill("SIGTERM");
    const result = await console.finish(5000);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n").slice(1)).toEqual([
      'Message #1: {"value":1,"timestamp":"2026-01-01T00:00:00.000Z"}',
      'Message #2: {"value":2,"timestamp":"2026-01-01T00:00:01.000Z"}',
      'Message #3: "plain text"',
      "",
    ]);
  });
});
