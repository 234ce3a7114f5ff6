// file output as a real process: appends lines byte for byte, rotates by size, clear disk errors.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dstreamBinary } from "../../helpers/binary.ts";
import { launchers, ready, runToEnd, startProvider } from "./helpers.ts";

let folder = "";
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-file-output-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

describe.each(launchers)("file output ($label)", (launcher) => {
  test("appends each line as received to an existing file, adding a missing last newline", async () => {
    const path = join(folder, "out.jsonl");
    writeFileSync(path, '{"data":"kept"}\n');
    const result = await runToEnd(await launcher.command("file"), {
      role: "output",
      config: { path },
      input: '{"data":1}\r\n{"data" : 2}\n{"data":3}',
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(ready);
    expect(readFileSync(path, "utf8")).toBe(
      '{"data":"kept"}\n{"data":1}\r\n{"data" : 2}\n{"data":3}\n',
    );
  });

  test("200,000 lines arrive with the same sha256", async () => {
    const path = join(folder, "out.jsonl");
    const content = Array.from(
      { length: 200_000 },
      (_, index) => `{"data":{"n":${index},"pad":"${"y".repeat(50)}"}}\n`,
    ).join("");
    const result = await runToEnd(await launcher.command("file"), {
      role: "output",
      config: { path },
      input: content,
    });
    expect(result.exitCode).toBe(0);
    const digest = (bytes: string | Uint8Array) =>
      new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
    expect(digest(readFileSync(path))).toBe(digest(content));
  });

  test("rotateBytes: full files become path.1, path.2..., cut only between lines", async () => {
    const path = join(folder, "out.jsonl");
    const line = (index: number) => `{"data":${index}}\n`;
    const lines = Array.from({ length: 7 }, (_, index) => line(index));
    const result = await runToEnd(await launcher.command("file"), {
      role: "output",
      config: { path, rotateBytes: 25 },
      input: lines.join(""),
    });
    expect(result.exitCode).toBe(0);
    // Each line is 11 bytes: two fit in 25.
    expect(readFileSync(`${path}.1`, "utf8")).toBe(line(0) + line(1));
    expect(readFileSync(`${path}.2`, "utf8")).toBe(line(2) + line(3));
    expect(readFileSync(`${path}.3`, "utf8")).toBe(line(4) + line(5));
    expect(readFileSync(path, "utf8")).toBe(line(6));
  });

  test("rotation numbers continue after the ones already on disk", async () => {
    const path = join(folder, "out.jsonl");
    writeFileSync(`${path}.4`, "old\n");
    writeFileSync(path, '{"data":"before"}\n');
    const result = await runToEnd(await launcher.command("file"), {
      role: "output",
      config: { path, rotateBytes: 20 },
      input: '{"data":"after"}\n',
    });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(`${path}.5`, "utf8")).toBe('{"data":"before"}\n');
    expect(readFileSync(path, "utf8")).toBe('{"data":"after"}\n');
  });

  test("SIGTERM: writes what is already on stdin, then exits 0", async () => {
    const path = join(folder, "out.jsonl");
    const output = startProvider(await launcher.command("file"), {
      role: "output",
      config: { path },
    });
    await output.waitForLines(1);
    output.write('{"data":1}\n{"data":2}\n');
    await Bun.sleep(100);
    output.child.kill("SIGTERM");
    const result = await output.finish(5000);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(path, "utf8")).toBe('{"data":1}\n{"data":2}\n');
  });

  test("SIGTERM right after data that follows a quiet spell: that data is still written", async () => {
    const path = join(folder, "out.jsonl");
    const output = startProvider(await launcher.command("file"), {
      role: "output",
      config: { path },
    });
    await output.waitForLines(1);
    await Bun.sleep(500);
    output.write('{"data":"late"}\n');
    output.child.kill("SIGTERM");
    const result = await output.finish(5000);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(path, "utf8")).toBe('{"data":"late"}\n');
  });

  test("SIGTERM while data keeps coming: stops reading within 3 s, exits 0, whole lines only", async () => {
    const path = join(folder, "out.jsonl");
    const output = startProvider(await launcher.command("file"), {
      role: "output",
      config: { path },
    });
    await output.waitForLines(1);
    let sent = 0;
    const writer = setInterval(() => {
      try {
        output.write(`{"data":${++sent}}\n`);
      } catch {
        // The output has stopped reading and exited (EPIPE): what this test waits for.
      }
    }, 20);
    try {
      await Bun.sleep(200);
      const signalled = Date.now();
      output.child.kill("SIGTERM");
      const result = await output.finish(10_000);
      const took = Date.now() - signalled;
      expect(result.exitCode).toBe(0);
      expect(took).toBeLessThan(4500);
      const written = readFileSync(path, "utf8");
      expect(written.endsWith("\n")).toBe(true);
      const numbers = written
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).data);
      expect(numbers).toEqual(numbers.map((_, index) => index + 1));
    } finally {
      clearInterval(writer);
    }
  }, 20_000);

  test("a full disk (ENOSPC) fails naming the file", async () => {
    const result = await runToEnd(await launcher.command("file"), {
      role: "output",
      config: { path: "/dev/full" },
      input: '{"data":1}\n',
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(ready);
    expect(result.stderr).toBe(
      'error: cannot write "/dev/full": no space left on device (ENOSPC)\n',
    );
  });

  test("a folder that does not exist fails the handshake naming the file", async () => {
    const path = join(folder, "missing", "out.jsonl");
    const result = await runToEnd(await launcher.command("file"), {
      role: "output",
      config: { path },
    });
    const message = `cannot open "${path}": no such file or directory (ENOENT)`;
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(`${JSON.stringify({ status: "error", message })}\n`);
    expect(result.stderr).toBe(`error: ${message}\n`);
  });

  test("config rotateBytes -1 is refused", async () => {
    const result = await runToEnd(await launcher.command("file"), {
      role: "output",
      config: { path: "x", rotateBytes: -1 },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('{"status":"error","message":"rotateBytes: must be 0 or more"}\n');
  });
});

test("a file it may not write (EACCES) fails the handshake naming the file", async () => {
  // Root may write anywhere, so as root the provider runs as nobody from a world-readable copy.
  const asRoot = process.getuid?.() === 0;
  const locked = join(folder, "locked");
  mkdirSync(locked);
  chmodSync(folder, 0o755);
  chmodSync(locked, 0o555);
  let command = [await dstreamBinary(), "__provider", "file"];
  if (asRoot) {
    const binary = join(folder, "dstream");
    copyFileSync(command[0] ?? "", binary);
    chmodSync(binary, 0o755);
    command = [
      "setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      binary,
      "__provider",
      "file",
    ];
  }
  const path = join(locked, "out.jsonl");
  const result = await runToEnd(command, { role: "output", config: { path }, cwd: folder });
  const message = `cannot open "${path}": permission denied (EACCES)`;
  expect(result.exitCode).toBe(1);
  expect(result.stdout).toBe(`${JSON.stringify({ status: "error", message })}\n`);
  expect(result.stderr).toBe(`error: ${message}\n`);
});
