// The file input's checkpoint read back, and where a resume starts or why it is refused.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileHead } from "../../../../src/providers/file/fingerprint.ts";
import {
  type FilePosition,
  parseFileCheckpoint,
  startOf,
} from "../../../../src/providers/file/position.ts";

let folder = "";
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-file-position-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const position = (path: string, content: string, offset: number, line: number): FilePosition => {
  const { dev, ino } = statSync(path);
  const head = new FileHead();
  head.add(new TextEncoder().encode(content), 0);
  return { file: path, dev, ino, offset, line, ...head.fingerprintAt(offset) };
};

describe("parseFileCheckpoint", () => {
  const at = { file: "a.jsonl", dev: 1, ino: 2, offset: 3, line: 1 };
  test.each([
    ["without a fingerprint (older checkpoints)", { done: [], current: at }],
    ["with one", { done: [{ ...at, headBytes: 3, headHash: "0123456789abcdef" }] }],
  ])("accepts a position %s", (_name, checkpoint) => {
    expect(parseFileCheckpoint(checkpoint).get("a.jsonl")).toMatchObject(at);
  });

  test.each([
    { ...at, headBytes: 4, headHash: "0123456789abcdef" },
    { ...at, headBytes: 3 },
    { ...at, headHash: "0123456789abcdef" },
  ])("refuses a fingerprint that does not fit its position: %j", (current) => {
    expect(() => parseFileCheckpoint({ done: [], current })).toThrow(
      "is not a file input position; reset it with dstream state reset",
    );
  });
});

describe("startOf", () => {
  const reset = "(dstream state reset t reads it again from the start)";
  const long = Array.from({ length: 2000 }, (_, n) => `${n}\n`).join("");

  test("continues after the offset of a file appended to, with its head for later checkpoints", async () => {
    const path = join(folder, "grown.jsonl");
    writeFileSync(path, long);
    const recorded = position(path, long, long.length, 2000);
    writeFileSync(path, "2000\n", { flag: "a" });
    const { position: start, head } = await startOf(path, recorded, "t");
    expect(start).toEqual(recorded);
    expect(head.fingerprintAt(long.length)).toEqual({
      headBytes: 4096,
      headHash: recorded.headHash ?? "",
    });
  });

  test("a position without a fingerprint is checked for its identity, size and line end only", async () => {
    const path = join(folder, "old.jsonl");
    writeFileSync(path, "1\n2\n");
    const { dev, ino } = statSync(path);
    writeFileSync(path, "3\n4\n5\n");
    const recorded = { file: path, dev, ino, offset: 4, line: 2 };
    expect((await startOf(path, recorded, "t")).position).toEqual(recorded);
  });

  test("the same first 4 KiB but other lines after them: refused, the offset is inside a line", async () => {
    const path = join(folder, "rewritten.jsonl");
    writeFileSync(path, long);
    const recorded = position(path, long, long.length, 2000);
    // Same inode, same first 4 KiB, one line longer before the offset.
    writeFileSync(path, long.replace("1998\n", "19988\n"));
    await expect(startOf(path, recorded, "t")).rejects.toThrow(
      `cannot resume "${path}": it was rewritten since the checkpoint (byte ${long.length - 1} is no longer the end of a line) ${reset}`,
    );
  });

  test("an unnamed task (started by hand) gets <task> in the fix", async () => {
    const path = join(folder, "short.jsonl");
    writeFileSync(path, "1\n2\n");
    const recorded = position(path, "1\n2\n", 4, 2);
    writeFileSync(path, "1\n");
    await expect(startOf(path, recorded, "")).rejects.toThrow(
      `cannot resume "${path}": it was truncated since the checkpoint (2 bytes, the checkpoint is at 4) (dstream state reset <task> reads it again from the start)`,
    );
  });
});
