// Streams one blob into the cache, hashing while it streams; the file gets its final name (and +x)
// only after its digest matched, so no unverified byte is ever at a path dstream executes.
import { chmod, mkdir, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { DstreamError, messageOf } from "../../errors.ts";
import { algorithmOf, checkDigest } from "../../oci/index.ts";
import { type RegistryClient, RetryBudget } from "../client/index.ts";
import { type BlobWriter, openBlobWriter } from "./blob-writer.ts";
import { blobPath, isCached, removeQuietly, sweepStaleTemps, tempPath } from "./cache.ts";

/**
 * What a download reports as it goes, for a caller that shows it (the CLI draws a bar): one start,
 * progress as bytes arrive (from 0 again when a broken-off body is fetched anew), one end.
 */
export type DownloadEvent =
  | { kind: "start"; reference: string; platform: string; total: number }
  | { kind: "progress"; reference: string; received: number; total: number }
  | { kind: "end"; reference: string; ok: boolean };

export interface DownloadRequest {
  client: RegistryClient;
  descriptor: { digest: string; size: number };
  cacheDir: string;
  /** "linux/amd64", for messages. */
  platform: string;
  onEvent?: (event: DownloadEvent) => void;
  /** The error for a 404, when the caller knows why the blob should be there. */
  notFound?: DstreamError;
}

/** The body broke off or stalled: the blob is fetched anew while the request's budget lasts. */
class DroppedConnection extends Error {}

async function finishWriting(request: DownloadRequest, writer: BlobWriter): Promise<string> {
  try {
    return await writer.finish();
  } catch (error) {
    throw new DstreamError(
      "REGISTRY",
      `cannot write the ${request.platform} binary of ${request.client.subject} into the cache ${request.cacheDir}: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

async function streamOnce(
  request: DownloadRequest,
  temp: string,
  budget: RetryBudget,
): Promise<string> {
  const { client, descriptor, onEvent } = request;
  const reference = client.subject;
  const writer = openBlobWriter(temp, descriptor.size, algorithmOf(descriptor.digest));
  let finished = false;
  try {
    // The transport bounds the wait for each chunk; a stall ends the loop below with its error.
    const response = await client.openBlob(descriptor.digest, {
      budget,
      ...(request.notFound ? { notFound: request.notFound } : {}),
    });
    const total = descriptor.size;
    let received = 0;
    onEvent?.({ kind: "progress", reference, received, total });
    try {
      for await (const chunk of response.body as ReadableStream<Uint8Array>) {
        received += chunk.byteLength;
        // More bytes than the descriptor promises cannot match it; stop before filling the disk.
        if (received > descriptor.size) break;
        const backpressure = writer.write(chunk);
        if (backpressure) await backpressure;
        onEvent?.({ kind: "progress", reference, received, total });
      }
    } catch (error) {
      throw new DroppedConnection(messageOf(error), { cause: error });
    }
    if (received < descriptor.size) {
      throw new DroppedConnection(`the body ended after ${received} of ${descriptor.size} bytes`);
    }
    if (received > descriptor.size) {
      throw new DstreamError(
        "DIGEST_MISMATCH",
        `the ${request.platform} binary of ${client.subject} is larger than the ${descriptor.size} bytes its digest ${descriptor.digest} covers; it was discarded and not run`,
      );
    }
    const digest = await finishWriting(request, writer);
    finished = true;
    return digest;
  } finally {
    if (!finished) await writer.abort();
  }
}

/** Downloads and verifies a blob unless it is cached; answers the executable's path. */
export async function downloadBlob(request: DownloadRequest): Promise<string> {
  const { descriptor, cacheDir, client } = request;
  // The digest names the file: one that is not a well-formed digest could point outside the cache.
  checkDigest(descriptor.digest, `the ${request.platform} binary of ${client.subject}`);
  const final = blobPath(cacheDir, descriptor.digest);
  if (await isCached(cacheDir, descriptor.digest, descriptor.size)) return final;
  await mkdir(dirname(final), { recursive: true }).catch((error: unknown) => {
    throw new DstreamError(
      "REGISTRY",
      `cannot use the cache folder ${cacheDir} for ${client.subject}: ${messageOf(error)} (set DSTREAM_CACHE_DIR to a writable folder)`,
      { cause: error },
    );
  });
  await sweepStaleTemps(cacheDir);
  const reference = client.subject;
  const { platform } = request;
  request.onEvent?.({ kind: "start", reference, platform, total: descriptor.size });
  let ok = false;
  try {
    await downloadWithRetries(request, final);
    ok = true;
    return final;
  } finally {
    request.onEvent?.({ kind: "end", reference, ok });
  }
}

/** Fetches the blob anew when its body broke off, within one budget of tries for the whole blob. */
async function downloadWithRetries(request: DownloadRequest, final: string): Promise<void> {
  const { descriptor, cacheDir, client } = request;
  const budget = new RetryBudget();
  for (;;) {
    const temp = await tempPath(cacheDir, descriptor.digest);
    try {
      const actual = await streamOnce(request, temp, budget);
      if (actual !== descriptor.digest) {
        throw new DstreamError(
          "DIGEST_MISMATCH",
          `the ${request.platform} binary of ${client.subject} does not match its digest: expected ${descriptor.digest}, got ${actual}; it was discarded and not run`,
        );
      }
      // The hash covers the bytes handed to the file; the size proves they all reached the disk.
      const written = (await stat(temp)).size;
      if (written !== descriptor.size) {
        throw new DstreamError(
          "REGISTRY",
          `cannot write the ${request.platform} binary of ${client.subject} into the cache ${cacheDir}: ${written} of ${descriptor.size} bytes reached the disk`,
        );
      }
      await chmod(temp, 0o755);
      // Atomic: a concurrent pull of the same blob renames identical bytes onto the same name.
      await rename(temp, final).catch(async (error: unknown) => {
        // Windows refuses to replace a file another process has just put there (and may run).
        if (!(await isCached(cacheDir, descriptor.digest, descriptor.size))) throw error;
      });
      return;
    } catch (error) {
      await removeQuietly(temp);
      if (!(error instanceof DroppedConnection)) throw error;
      if (!budget.allowsRetry(error.cause)) {
        throw new DstreamError(
          "REGISTRY",
          `the download of ${client.subject} (${request.platform}) from registry ${client.registry} broke off ${budget.tries} times: ${error.message}`,
          { cause: error },
        );
      }
      await budget.pause();
    }
  }
}
