// The content-addressed cache: blobs/<algorithm>/<hex> (verified executables) and refs/ records for `ls`.
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DstreamError, messageOf } from "../../errors.ts";
import { algorithmOf, fileDigest } from "../../oci/index.ts";
import { isProcessAlive } from "../../os/process-alive.ts";

/** A temp file untouched for a day belongs to no download still running. */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
/** A dead owner's temp file is swept once idle this long (a live writer touches it all along). */
const ORPHAN_IDLE_MS = 60_000;

export function blobPath(cacheDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(":");
  // Windows runs a file without an extension only as <name>.exe.
  const name = process.platform === "win32" ? `${hex}.exe` : (hex ?? "");
  return join(cacheDir, "blobs", algorithm ?? "sha256", name);
}

/** Temp files live inside the cache so the final rename never crosses file systems. */
export async function tempPath(cacheDir: string, digest: string): Promise<string> {
  const folder = join(cacheDir, "tmp");
  await mkdir(folder, { recursive: true });
  const unique = `${process.pid}-${crypto.randomUUID()}`;
  return join(folder, `${digest.replace(":", "-")}.${unique}`);
}

export async function isCached(cacheDir: string, digest: string, size?: number): Promise<boolean> {
  try {
    const info = await stat(blobPath(cacheDir, digest));
    return info.isFile() && (size === undefined || info.size === size);
  } catch {
    return false;
  }
}

/**
 * Hashes a cached blob again; one that no longer matches its digest (or size) is removed, so that
 * the caller downloads it afresh. Answers whether a good copy was there.
 */
export async function verifyCachedBlob(
  cacheDir: string,
  digest: string,
  size: number,
): Promise<"valid" | "missing" | "corrupt"> {
  const path = blobPath(cacheDir, digest);
  if (!(await isCached(cacheDir, digest))) return "missing";
  const actual = await fileDigest(path, algorithmOf(digest));
  if (actual.digest === digest && actual.size === size) return "valid";
  await removeQuietly(path);
  return "corrupt";
}

/** tempPath names a file `<digest>.<pid>-<uuid>`: the pid of the process writing it. */
function ownerOf(name: string): number | undefined {
  const match = /\.(\d+)-[0-9a-f-]{36}$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Removes temp files that interrupted downloads left behind: those whose process is gone (once idle
 * for a minute, in case it writes from another PID namespace), and any untouched for a day. Files of
 * pulls running now are kept; a file another sweep removed first is no error.
 */
export async function sweepStaleTemps(cacheDir: string): Promise<void> {
  const folder = join(cacheDir, "tmp");
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return;
  }
  const now = Date.now();
  await Promise.all(
    names.map(async (name) => {
      const path = join(folder, name);
      try {
        const idle = now - (await stat(path)).mtimeMs;
        const owner = ownerOf(name);
        const orphaned = owner !== undefined && idle > ORPHAN_IDLE_MS && !isProcessAlive(owner);
        if (orphaned || idle > STALE_TEMP_MS) await rm(path, { force: true });
      } catch {
        // Renamed or swept by another process meanwhile.
      }
    }),
  );
}

/** What `dstream providers ls` shows: one record per pulled reference and platform. */
export interface CachedProvider {
  reference: string;
  platform: string;
  /** The index or manifest digest the reference resolved to. */
  artifactDigest: string;
  /** The executable's digest. */
  digest: string;
  size: number;
  pulledAt: string;
}

function recordName(reference: string, platform: string): string {
  const key = new Bun.CryptoHasher("sha256").update(`${reference}\n${platform}`).digest("hex");
  return `${key}.json`;
}

async function readRecord(path: string): Promise<CachedProvider | undefined> {
  try {
    return (await Bun.file(path).json()) as CachedProvider;
  } catch {
    return undefined;
  }
}

/** Writes the record unless an identical one (but for pulledAt) is there: runs stay cheap. */
export async function recordCachedProvider(
  cacheDir: string,
  record: CachedProvider,
): Promise<void> {
  const folder = join(cacheDir, "refs");
  const final = join(folder, recordName(record.reference, record.platform));
  const existing = await readRecord(final);
  if (
    existing?.artifactDigest === record.artifactDigest &&
    existing.digest === record.digest &&
    existing.size === record.size &&
    existing.reference === record.reference &&
    existing.platform === record.platform
  ) {
    return;
  }
  let temp: string | undefined;
  try {
    await mkdir(folder, { recursive: true });
    temp = await tempPath(cacheDir, record.digest);
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(temp, final);
  } catch (error) {
    if (temp) await removeQuietly(temp);
    throw new DstreamError(
      "REGISTRY",
      `cannot use the cache folder ${cacheDir} for ${record.reference}: ${messageOf(error)} (set DSTREAM_CACHE_DIR to a writable folder)`,
      { cause: error },
    );
  }
}

/** Records whose blob is still in the cache, sorted by reference then platform. */
export async function listCachedProviders(cacheDir: string): Promise<CachedProvider[]> {
  let names: string[];
  try {
    names = await readdir(join(cacheDir, "refs"));
  } catch {
    return [];
  }
  const records: CachedProvider[] = [];
  for (const name of names.filter((entry) => entry.endsWith(".json"))) {
    // A record being replaced by another process right now: the next listing shows it.
    const record = await readRecord(join(cacheDir, "refs", name));
    if (record && (await isCached(cacheDir, record.digest))) records.push(record);
  }
  return records.sort(
    (a, b) => a.reference.localeCompare(b.reference) || a.platform.localeCompare(b.platform),
  );
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true });
}
