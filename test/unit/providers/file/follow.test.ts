// followFile in-process: each poll (a sleep) is a moment where the test changes the file.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { followFile } from "../../../../src/providers/file/follow.ts";

let folder = "";
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-file-follow-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

/** Follows `path`, running one change per poll, and stops at the poll after the last. */
async function follow(
  path: string,
  changes: (() => void)[],
  start?: { offset: number },
): Promise<{ read: string; logs: string[]; restarts: number }> {
  const stop = new AbortController();
  const logs: string[] = [];
  let restarts = 0;
  let read = "";
  const { dev, ino } = statSync(path);
  const chunks = followFile(path, {
    signal: stop.signal,
    log: (message) => logs.push(message),
    onRestart: () => restarts++,
    sleep: async () => {
      const change = changes.shift();
      if (change) change();
      else stop.abort();
    },
    ...(start ? { start: { dev, ino, ...start } } : {}),
  });
  for await (const chunk of chunks) read += new TextDecoder().decode(chunk);
  return { read, logs, restarts };
}

describe("followFile", () => {
  test("appended bytes are read on; a rewrite of the same size is noticed", async () => {
    const path = join(folder, "same-size.jsonl");
    writeFileSync(path, "aa\n");
    const result = await follow(path, [
      () => appendFileSync(path, "bb\n"),
      () => writeFileSync(path, "cc\ndd\n"),
    ]);
    expect(result.read).toBe("aa\nbb\ncc\ndd\n");
    expect(result.logs).toEqual([
      `${path} was truncated or rewritten; reading it again from its start`,
    ]);
    expect(result.restarts).toBe(1);
  });

  test("rewritten longer between two reads, with no poll between: the new bytes at the old offset are not handed on", async () => {
    const path = join(folder, "between-reads.jsonl");
    writeFileSync(path, "1\n2\n");
    const stop = new AbortController();
    const chunks: string[] = [];
    const logs: string[] = [];
    const follower = followFile(path, {
      signal: stop.signal,
      log: (message) => logs.push(message),
      sleep: async () => stop.abort(),
    });
    for await (const chunk of follower) {
      chunks.push(new TextDecoder().decode(chunk));
      // The generator waits at its yield: the next read comes after this rewrite.
      if (chunks.length === 1) writeFileSync(path, "3333\n44\n");
    }
    expect(chunks).toEqual(["1\n2\n", "3333\n44\n"]);
    expect(logs).toEqual([`${path} was truncated or rewritten; reading it again from its start`]);
  });

  test("truncated, then written again at a later poll: one restart", async () => {
    const path = join(folder, "emptied.jsonl");
    writeFileSync(path, "1\n2\n");
    const result = await follow(path, [
      () => writeFileSync(path, ""),
      () => writeFileSync(path, "3\n4\n5\n"),
    ]);
    expect(result.read).toBe("1\n2\n3\n4\n5\n");
    expect(result.restarts).toBe(1);
  });

  test("a rewrite that keeps the bytes read so far cannot be told from an append", async () => {
    const path = join(folder, "extended.jsonl");
    writeFileSync(path, "1\n");
    const result = await follow(path, [() => writeFileSync(path, "1\n2\n")]);
    expect(result.read).toBe("1\n2\n");
    expect(result.restarts).toBe(0);
  });

  test("a resume starts at the offset of the same file, and checks the bytes before it", async () => {
    const path = join(folder, "resumed.jsonl");
    writeFileSync(path, "1\n2\n");
    const result = await follow(path, [() => writeFileSync(path, "3\n4\n5\n")], { offset: 2 });
    expect(result.read).toBe("2\n3\n4\n5\n");
    expect(result.restarts).toBe(1);
  });
});
