// Messages between a download and the blob-writer worker (hash and write off the main thread).

export type ToBlobWriter =
  | { code: "OPEN"; path: string }
  | { code: "CHUNK"; chunk: Uint8Array }
  | { code: "FINISH" };

export type FromBlobWriter =
  | { code: "WRITTEN"; bytes: number }
  | { code: "DONE"; digest: string }
  | { code: "ERROR"; message: string };
