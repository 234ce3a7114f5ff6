// file input as a real process: jsonl wrapping, globs, raw byte-for-byte, follow (tail -F), errors.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchers, ready, runToEnd, startProvider } from "./helpers.ts";

let folder = "";
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-file-input-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const sha256 = (bytes: string | Uint8Array) =>
  new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

describe.each(launchers)("file input ($label)", (launcher) => {
  test("jsonl: wraps each JSON value with its file and line, files of a glob in sorted order", async () => {
    writeFileSync(join(folder, "b.jsonl"), '"second file"\n');
    writeFileSync(join(folder, "a.jsonl"), '{"id":1}\n\n[1,2]');
    writeFileSync(join(folder, "c.txt"), "not matched\n");
    const result = await runToEnd(await launcher.command("file"), {
      role: "input",
      config: { path: join(folder, "*.jsonl") },
    });
    const a = JSON.stringify(join(folder, "a.jsonl"));
    const b = JSON.stringify(join(folder, "b.jsonl"));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      `${ready}{"data":{"id":1},"metadata":{"file":${a},"line":1}}\n` +
        `{"data":[1,2],"metadata":{"file":${a},"line":3}}\n` +
        `{"data":"second file","metadata":{"file":${b},"line":1}}\n`,
    );
  });

  test("jsonl: a line that is not JSON fails naming file and line, after the lines before it", async () => {
    const path = join(folder, "bad.jsonl");
    writeFileSync(path, "1\n{oops\n3\n");
    const result = await runToEnd(await launcher.command("file"), {
      role: "input",
      config: { path },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(
      `${ready}{"data":1,"metadata":{"file":${JSON.stringify(path)},"line":1}}\n`,
    );
    expect(result.stderr).toBe(
      `error: ${path}:2: not valid JSON (format "jsonl" needs one JSON value per line)\n`,
    );
  });

  test("raw: passes the bytes through untouched, adding a newline where a file lacks one", async () => {
    const first = join(folder, "1.jsonl");
    const second = join(folder, "2.jsonl");
    writeFileSync(first, '{"data":1}\r\n{"data" :  2}');
    writeFileSync(second, '{"data":3}');
    const result = await runToEnd(await launcher.command("file"), {
      role: "input",
      config: { path: join(folder, "*.jsonl"), format: "raw" },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${ready}{"data":1}\r\n{"data" :  2}\n{"data":3}\n`);
  });

  test("raw: 200,000 lines come out with the same sha256", async () => {
    const path = join(folder, "big.jsonl");
    const content = Array.from(
      { length: 200_000 },
      (_, index) => `{"data":{"n":${index},"pad":"${"x".repeat(60)}"}}\n`,
    ).join("");
    writeFileSync(path, content);
    const result = await runToEnd(await launcher.command("file"), {
      role: "input",
      config: { path, format: "raw" },
    });
    expect(result.exitCode).toBe(0);
    expect(sha256(result.stdout.slice(ready.length))).toBe(sha256(content));
  });

  test("raw: a line longer than the search window across a range boundary, no newline at the end", async () => {
    const path = join(folder, "boundary.jsonl");
    const short = `{"data":"${"s".repeat(40)}"}\n`;
    const head = short.repeat(Math.floor((4 * 1024 * 1024 - 1000) / short.length));
    const long = `{"data":"${"L".repeat(300 * 1024)}"}\n`;
    const content = `${head}${long}${short.repeat(3)}{"data":"last"}`;
    writeFileSync(path, content);
    const result = await runToEnd(await launcher.command("file"), {
      role: "input",
      config: { path, format: "raw" },
    });
    expect(result.exitCode).toBe(0);
    expect(sha256(result.stdout.slice(ready.length))).toBe(sha256(`${content}\n`));
  });

  test("raw, to a file: the same bytes (the kernel copies file to file)", async () => {
    const path = join(folder, "to-file.jsonl");
    const content = `{"data":1}\n{"data":2}\n`.repeat(300_000);
    writeFileSync(path, content);
    const target = join(folder, "copied.jsonl");
    const fd = openSync(target, "w");
    try {
      const provider = startProvider(await launcher.command("file"), {
        role: "input",
        config: { path, format: "raw" },
        stdoutFd: fd,
      });
      provider.end();
      expect((await provider.finish(20_000)).exitCode).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(sha256(readFileSync(target).subarray(ready.length))).toBe(sha256(content));
  });

  test("raw: SIGTERM mid-file ends on a whole line, exit 0", async () => {
    const path = join(folder, "stopped.jsonl");
    const line = (n: number) => `{"data":{"n":${n},"pad":"${"p".repeat(100)}"}}\n`;
    const content = Array.from({ length: 600_000 }, (_, n) => line(n)).join("");
    writeFileSync(path, content);
    const provider = startProvider(await launcher.command("file"), {
      role: "input",
      config: { path, format: "raw" },
    });
    await provider.waitForLines(1);
    provider.child.kill("SIGTERM");
    const result = await provider.finish(20_000);
    expect(result.exitCode).toBe(0);
    // Whole lines only, from the start: nothing (a stop before the first range), part, or all.
    const got = result.stdout.slice(ready.length);
    expect(got === "" || got.endsWith("\n")).toBe(true);
    expect(content.startsWith(got)).toBe(true);
  });

  test.each([
    [{ path: "missing.jsonl" }, 'cannot read "missing.jsonl": no such file or directory (ENOENT)'],
    [{ path: "nothing/*.jsonl" }, 'no file matches "nothing/*.jsonl"'],
  ])("%j fails after the handshake: %s", async (config, message) => {
    const result = await runToEnd(await launcher.command("file"), {
      role: "input",
      config,
      cwd: folder,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(ready);
    expect(result.stderr).toBe(`error: ${message}\n`);
  });

  test.each([
    [{}, "path: is required"],
    [{ path: "x", format: "csv" }, 'format: must be "jsonl" or "raw"'],
    [{ path: "logs/*.jsonl", follow: true }, "follow: needs one file, not a glob"],
  ])("config %j is refused: %s", async (config, message) => {
    const result = await runToEnd(await launcher.command("file"), { role: "input", config });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(`${JSON.stringify({ status: "error", message })}\n`);
  });

  test("follow: reads appended lines, a rotated file and a truncated one until SIGTERM", async () => {
    const path = join(folder, "app.jsonl");
    writeFileSync(path, '{"data":1}\n');
    const tail = startProvider(await launcher.command("file"), {
      role: "input",
      config: { path, format: "raw", follow: true },
    });
    await tail.waitForLines(2);
    appendFileSync(path, '{"data":2}\n{"data":');
    await tail.waitForLines(3);
    appendFileSync(path, "3}\n");
    await tail.waitForLines(4);
    renameSync(path, `${path}.1`);
    writeFileSync(path, '{"data":4,"note":"rotated"}\n');
    await tail.waitForLines(5);
    // Shorter than what was read: that is how a truncation shows (as with tail -F).
    writeFileSync(path, '{"data":5}\n');
    await tail.waitForLines(6);
    tail.child.kill("SIGTERM");
    const result = await tail.finish(5000);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      `${ready}{"data":1}\n{"data":2}\n{"data":3}\n{"data":4,"note":"rotated"}\n{"data":5}\n`,
    );
    expect(result.stderr).toBe(
      `${path} was replaced; reading the new file\n${path} was truncated; reading from its start\n`,
    );
  }, 20_000);

  test("follow, jsonl: metadata.line starts at 1 in a rotated file; an unfinished old line is dropped", async () => {
    const path = join(folder, "numbered.jsonl");
    writeFileSync(path, "1\n2\n");
    const tail = startProvider(await launcher.command("file"), {
      role: "input",
      config: { path, follow: true },
    });
    await tail.waitForLines(3);
    appendFileSync(path, "3");
    renameSync(path, `${path}.1`);
    writeFileSync(path, "10\n");
    await tail.waitForLines(4);
    tail.child.kill("SIGTERM");
    const result = await tail.finish(5000);
    expect(result.exitCode).toBe(0);
    const line = (data: number, n: number) =>
      `${JSON.stringify({ data, metadata: { file: path, line: n } })}\n`;
    expect(result.stdout).toBe(`${ready}${line(1, 1)}${line(2, 2)}${line(10, 1)}`);
    expect(result.stderr).toBe(
      `${path} was replaced; reading the new file\n${path}: dropped an unfinished last line (1 bytes) of the old file\n`,
    );
  }, 20_000);
});
