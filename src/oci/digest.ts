// Content digests as OCI writes them (sha256 or sha512): validation, and hashing with the algorithm
// a digest names, so no digest is ever compared against bytes hashed another way.
import { DstreamError } from "../errors.ts";

export type DigestAlgorithm = "sha256" | "sha512";

export const digestPattern = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export const digestFormat = "sha256:<64 hex> or sha512:<128 hex>";

export function isDigest(text: string): boolean {
  return digestPattern.test(text);
}

/** The algorithm of a digest that passed isDigest (or checkDigest). */
export function algorithmOf(digest: string): DigestAlgorithm {
  return digest.startsWith("sha512:") ? "sha512" : "sha256";
}

/** Throws unless `digest` is one dstream can verify; `where` names its source in the message. */
export function checkDigest(digest: unknown, where: string): string {
  if (typeof digest === "string" && isDigest(digest)) return digest;
  throw new DstreamError(
    "REGISTRY",
    `${where} names the digest ${JSON.stringify(digest)}, which dstream cannot verify (expected ${digestFormat})`,
  );
}

/** Hashes chunk by chunk; `digest()` answers "<algorithm>:<hex>". */
export class Digester {
  private readonly hasher: Bun.CryptoHasher;

  constructor(readonly algorithm: DigestAlgorithm) {
    this.hasher = new Bun.CryptoHasher(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.hasher.update(chunk);
  }

  digest(): string {
    return `${this.algorithm}:${this.hasher.digest("hex")}`;
  }
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = "sha256"): string {
  const digester = new Digester(algorithm);
  digester.update(bytes);
  return digester.digest();
}

/** Streams a file through the hash: its digest and size. */
export async function fileDigest(
  path: string,
  algorithm: DigestAlgorithm = "sha256",
): Promise<{ digest: string; size: number }> {
  const digester = new Digester(algorithm);
  let size = 0;
  for await (const chunk of Bun.file(path).stream()) {
    digester.update(chunk);
    size += chunk.byteLength;
  }
  return { digest: digester.digest(), size };
}
