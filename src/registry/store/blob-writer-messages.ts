// Messages between a download and the blob-writer worker (hash and write off the main thread).
import type { DigestAlgorithm } from "../../oci/index.ts";

export type ToBlobWriter =
  | { code: "OPEN"; path: string; algorithm: DigestAlgorithm }
  | { code: "CHUNK"; chunk: Uint8Array }
  | { code: "FINISH" };

export type FromBlobWriter =
  | { code: "WRITTEN"; bytes: number }
  | { code: "DONE"; digest: string }
  | { code: "ERROR"; message: string };
