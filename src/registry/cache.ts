// The content-addressed cache: blobs/<algorithm>/<hex> (verified executables) and refs/ records for `ls`.
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { DstreamError, messageOf } from "../errors.ts";
import type { Env } from "./transport.ts";

export function defaultCacheDir(env: Env): string {
  if (env.DSTREAM_CACHE_DIR) return env.DSTREAM_CACHE_DIR;
  const home = env.HOME ?? homedir();
  if (process.platform === "darwin") return join(home, "Library", "Caches", "dstream");
  if (process.platform === "win32") {
    return join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), "dstream");
  }
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), "dstream");
}

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

export async function recordCachedProvider(
  cacheDir: string,
  record: CachedProvider,
): Promise<void> {
  const folder = join(cacheDir, "refs");
  const final = join(folder, recordName(record.reference, record.platform));
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
    try {
      const record = (await Bun.file(join(cacheDir, "refs", name)).json()) as CachedProvider;
      if (await isCached(cacheDir, record.digest)) records.push(record);
    } catch {
      // A record being replaced by another process right now: the next listing shows it.
    }
  }
  return records.sort(
    (a, b) => a.reference.localeCompare(b.reference) || a.platform.localeCompare(b.platform),
  );
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true });
}
