// FileHead: a file's first bytes kept from the chunks read, hashed for a position's fingerprint.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { FileHead, HEAD_BYTES, headHash } from "../../../../src/providers/file/fingerprint.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const sha16 = (text: string | Uint8Array) =>
  createHash("sha256").update(text).digest("hex").slice(0, 16);

describe("FileHead", () => {
  test("keeps the first bytes from chunks in file order, up to HEAD_BYTES", () => {
    const head = new FileHead();
    head.add(bytes("ab"), 0);
    head.add(bytes("cd"), 2);
    expect(new TextDecoder().decode(head.bytes())).toBe("abcd");
    head.add(new Uint8Array(HEAD_BYTES).fill(120), 4);
    expect(head.length).toBe(HEAD_BYTES);
    expect(head.bytes().subarray(0, 5)).toEqual(bytes("abcdx"));
  });

  test.each([
    ["a chunk past what is held (a gap) is ignored", "xy", 5, "abc"],
    ["a chunk held already is ignored", "ab", 0, "abc"],
    ["a chunk overlapping the end adds only its new part", "cde", 2, "abcde"],
  ])("%s", (_name, chunk, at, held) => {
    const head = FileHead.of(bytes("abc"));
    head.add(bytes(chunk), at);
    expect(new TextDecoder().decode(head.bytes())).toBe(held);
  });

  test("the fingerprint at an offset covers min(HEAD_BYTES, offset) bytes", () => {
    const content = "1\n".repeat(3000);
    const head = new FileHead();
    head.add(bytes(content), 0);
    expect(head.fingerprintAt(0)).toEqual({ headBytes: 0, headHash: sha16("") });
    expect(head.fingerprintAt(4)).toEqual({ headBytes: 4, headHash: sha16("1\n1\n") });
    expect(head.fingerprintAt(6000)).toEqual({
      headBytes: HEAD_BYTES,
      headHash: sha16(content.slice(0, HEAD_BYTES)),
    });
    expect(headHash(bytes("1\n1\n"))).toBe(sha16("1\n1\n"));
  });
});
