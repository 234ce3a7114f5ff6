// Digests are checked with the algorithm they name; anything else is refused, never skipped.
import { describe, expect, test } from "bun:test";
import { DstreamError } from "../../../src/errors.ts";
import { algorithmOf, checkDigest, digestOf } from "../../../src/oci/digest.ts";

const bytes = new TextEncoder().encode("provider");
const sha256 = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
const sha512 = `sha512:${new Bun.CryptoHasher("sha512").update(bytes).digest("hex")}`;

describe("digests", () => {
  test("bytes are hashed with the algorithm asked for", () => {
    expect(digestOf(bytes)).toBe(sha256);
    expect(digestOf(bytes, algorithmOf(sha512))).toBe(sha512);
    expect(algorithmOf(sha256)).toBe("sha256");
  });

  test.each([sha256, sha512])("%s is accepted", (digest) => {
    expect(checkDigest(digest, "x")).toBe(digest);
  });

  test.each([
    [`sha384:${"a".repeat(96)}`],
    [`sha256:${"A".repeat(64)}`],
    [`sha512:${"a".repeat(64)}`],
    ["sha256:../../../etc/passwd"],
    ["v1"],
    [42],
  ])("%j is refused", (digest) => {
    const error = (() => {
      try {
        checkDigest(digest, "the linux/amd64 binary of r/x:v1");
      } catch (caught) {
        return caught;
      }
    })() as DstreamError;
    expect(error).toBeInstanceOf(DstreamError);
    expect(error.message).toBe(
      `the linux/amd64 binary of r/x:v1 names the digest ${JSON.stringify(digest)}, which dstream cannot verify (expected sha256:<64 hex> or sha512:<128 hex>)`,
    );
    expect(error.exitCode as number).toBe(1);
  });
});
