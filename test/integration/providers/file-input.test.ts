// file input as a real process: jsonl wrapping, globs, raw byte-for-byte, follow (tail -F) across
// rotation, truncation and rewrites in place, resuming from a checkpoint (v2), errors.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkspace, type Workspace } from "../../e2e/helpers.ts";
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

  test("jsonl: a value keeps its own text, every digit of a number no double holds", async () => {
    const path = join(folder, "exact.jsonl");
    writeFileSync(
      path,
      '{"id": 9007199254740993, "price": 1.50, "big": 12345678901234567890.123}\n',
    );
    const result = await runToEnd(await launcher.command("file"), {
      role: "input",
      config: { path },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      `${ready}{"data":{"id": 9007199254740993, "price": 1.50, "big": 12345678901234567890.123},"metadata":{"file":${JSON.stringify(path)},"line":1}}\n`,
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
      `${path} was replaced; reading the new file\n${path} was truncated or rewritten; reading it again from its start\n`,
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

  test.each([
    ["jsonl", (n: number) => `${n}\n`],
    ["raw", (n: number) => `{"data":${n}}\n`],
  ] as const)(
    "follow, %s: a file truncated and rewritten longer is read again from its start, no fragment",
    async (format, write) => {
      const path = join(folder, `rewritten.${format}`);
      const content = (values: number[]) => values.map(write).join("");
      writeFileSync(path, content([11, 22]));
      const tail = startProvider(await launcher.command("file"), {
        role: "input",
        config: { path, format, follow: true },
      });
      await tail.waitForLines(3);
      const inode = statSync(path).ino;
      // Longer than before and cut differently: read on from the old offset, it gives "78" (jsonl).
      writeFileSync(path, content([12345678, 23456789, 3]));
      expect(statSync(path).ino).toBe(inode);
      await tail.waitForLines(6);
      appendFileSync(path, content([4]));
      await tail.waitForLines(7);
      tail.child.kill("SIGTERM");
      const result = await tail.finish(5000);
      expect(result.exitCode).toBe(0);
      const line = (data: number, n: number) =>
        format === "raw"
          ? write(data)
          : `${JSON.stringify({ data, metadata: { file: path, line: n } })}\n`;
      expect(result.stdout).toBe(
        `${ready}${line(11, 1)}${line(22, 2)}${line(12345678, 1)}${line(23456789, 2)}${line(3, 3)}${line(4, 4)}`,
      );
      expect(result.stderr).toBe(
        `${path} was truncated or rewritten; reading it again from its start\n`,
      );
    },
    20_000,
  );

  describe("resume (protocol 2)", () => {
    const v2Ready = '{"status":"ready","protocol":2}\n';
    const event = (path: string, data: number, line: number) =>
      JSON.stringify({ data, metadata: { file: path, line } });

    /** Reads `path` (jsonl) to its end from `checkpoint`: the lines after the handshake. */
    async function readFrom(
      path: string,
      checkpoint: unknown,
      follow = false,
    ): Promise<{ exitCode: number; lines: string[]; stderr: string }> {
      const provider = startProvider(await launcher.command("file"), {
        role: "input",
        firstLine: JSON.stringify({
          command: "run",
          config: { path, follow },
          protocol: 2,
          checkpoint,
        }),
      });
      provider.end();
      const { exitCode, stdout, stderr } = await provider.finish();
      expect(stdout.startsWith(v2Ready)).toBe(true);
      return { exitCode, lines: stdout.slice(v2Ready.length).split("\n").slice(0, -1), stderr };
    }

    /** The checkpoint after reading all of `path`, as the input wrote it. */
    async function checkpointAfterAll(path: string): Promise<unknown> {
      const first = await readFrom(path, null);
      expect(first.exitCode).toBe(0);
      const last = JSON.parse(first.lines.at(-1) ?? "null") as { checkpoint: unknown };
      return last.checkpoint;
    }

    test("a file appended to continues right after the checkpoint's offset", async () => {
      const path = join(folder, "grows.jsonl");
      writeFileSync(path, "1\n2\n");
      const checkpoint = await checkpointAfterAll(path);
      appendFileSync(path, "3\n4\n");
      const resumed = await readFrom(path, checkpoint);
      expect(resumed.exitCode).toBe(0);
      expect(resumed.lines.slice(0, 2)).toEqual([event(path, 3, 3), event(path, 4, 4)]);
      const { dev, ino } = statSync(path);
      expect(JSON.parse(resumed.lines[2] ?? "")).toEqual({
        checkpoint: {
          done: [],
          current: {
            file: path,
            dev,
            ino,
            offset: 8,
            line: 4,
            headBytes: 8,
            headHash: sha256("1\n2\n3\n4\n").slice(0, 16),
          },
        },
      });
    });

    test("a checkpoint written before fingerprints (none in it) is accepted as before", async () => {
      const path = join(folder, "older.jsonl");
      writeFileSync(path, "1\n2\n");
      const { dev, ino } = statSync(path);
      appendFileSync(path, "3\n");
      const checkpoint = { done: [], current: { file: path, dev, ino, offset: 4, line: 2 } };
      const resumed = await readFrom(path, checkpoint);
      expect(resumed.exitCode).toBe(0);
      expect(resumed.lines[0]).toBe(event(path, 3, 3));
    });

    test("follow: starts right after the checkpoint's offset", async () => {
      const path = join(folder, "followed.jsonl");
      writeFileSync(path, "1\n2\n");
      const checkpoint = await checkpointAfterAll(path);
      appendFileSync(path, "3\n");
      const tail = startProvider(await launcher.command("file"), {
        role: "input",
        firstLine: JSON.stringify({
          command: "run",
          config: { path, follow: true },
          protocol: 2,
          checkpoint,
        }),
      });
      await tail.waitForLines(2);
      tail.child.kill("SIGTERM");
      const result = await tail.finish(5000);
      expect(result.exitCode).toBe(0);
      expect(result.stdout.split("\n")[1]).toBe(event(path, 3, 3));
    }, 20_000);

    const reset = "(dstream state reset test reads it again from the start)";
    test.each([
      [
        "replaced (another inode)",
        false,
        (path: string) => {
          writeFileSync(`${path}.new`, "1\n2\n3\n");
          renameSync(`${path}.new`, path);
        },
        (path: string, inode: number) =>
          `it was replaced since the checkpoint (inode ${inode}, now ${statSync(path).ino})`,
      ],
      [
        "truncated",
        false,
        (path: string) => writeFileSync(path, "1\n"),
        () => "it was truncated since the checkpoint (2 bytes, the checkpoint is at 4)",
      ],
      [
        "rewritten in place, longer",
        false,
        (path: string) => writeFileSync(path, "9\n8\n7\n"),
        () => "it was rewritten since the checkpoint (its first 4 bytes changed)",
      ],
      [
        "rewritten in place, longer (follow)",
        true,
        (path: string) => writeFileSync(path, "9\n8\n7\n"),
        () => "it was rewritten since the checkpoint (its first 4 bytes changed)",
      ],
    ] as const)(
      "a file %s since the checkpoint is refused, exit 1",
      async (_name, follow, change, what) => {
        const path = join(folder, "changed.jsonl");
        writeFileSync(path, "1\n2\n");
        const inode = statSync(path).ino;
        const checkpoint = await checkpointAfterAll(path);
        change(path);
        const refused = await readFrom(path, checkpoint, follow);
        expect(refused.exitCode).toBe(1);
        expect(refused.lines).toEqual([]);
        expect(refused.stderr).toBe(
          `error: cannot resume "${path}": ${what(path, inode)} ${reset}\n`,
        );
      },
    );
  });
});

describe("file input under dstream run", () => {
  let workspace: Workspace;
  beforeAll(async () => {
    workspace = await createWorkspace();
  });
  afterAll(() => workspace.remove());

  test("a resume into a file rewritten in place fails (exit 1) until dstream state reset", async () => {
    const source = workspace.write("in.jsonl", "1\n2\n");
    const target = join(workspace.folder, "out.jsonl");
    workspace.write(
      "dstream.hcl",
      `task "t" {\n  input {\n    provider = "file"\n    config { path = "in.jsonl" }\n  }\n` +
        `  output {\n    provider = "file"\n    config { path = "${target}" }\n  }\n}\n`,
    );
    const run = () => workspace.run(["run", "t", "--quiet"], { keepState: true });
    expect((await run()).exitCode).toBe(0);
    writeFileSync(source, "10\n20\n30\n");
    const refused = await run();
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(
      `cannot resume "in.jsonl": it was rewritten since the checkpoint (its first 4 bytes changed) (dstream state reset t reads it again from the start)`,
    );
    expect((await workspace.run(["state", "reset", "t"], { keepState: true })).exitCode).toBe(0);
    expect((await run()).exitCode).toBe(0);
    const data = readFileSync(target, "utf8")
      .split("\n")
      .slice(0, -1)
      .map((line) => (JSON.parse(line) as { data: number }).data);
    expect(data).toEqual([1, 2, 10, 20, 30]);
  }, 60_000);
});
