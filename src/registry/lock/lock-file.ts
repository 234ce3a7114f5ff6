// dstream.lock.hcl: per provider_ref the resolved index/manifest digest and every platform's binary
// digest, so a lock written on a laptop verifies on a Linux server. Written atomically, by one
// process at a time.
import { rename, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { DstreamError, messageOf } from "../../errors.ts";
import { digestFormat, isDigest } from "../../oci/index.ts";
import { type FileLockOptions, LockWaitTimeout, withFileLock } from "./file-lock.ts";
import { type LockSyntaxBlock, LockSyntaxError, parseLockSyntax } from "./lock-file-syntax.ts";

export interface LockedPlatform {
  digest: string;
  size: number;
}

export interface LockedProvider {
  /** The index (layout a) or manifest (layout b) digest the reference resolved to. */
  digest: string;
  /** Keyed by "os/arch". */
  platforms: Record<string, LockedPlatform>;
}

/** Keyed by the provider_ref as written in dstream.hcl. */
export type LockedProviders = Map<string, LockedProvider>;

const header = [
  "# dstream.lock.hcl: the digests dstream pinned for each provider_ref.",
  '# Written by "dstream providers lock" and by the first run of a new ref; commit it beside',
  '# dstream.hcl. "dstream providers lock --upgrade" re-resolves tags.',
];

function invalid(path: string, line: number, message: string): DstreamError {
  return new DstreamError(
    "CONFIG_INVALID",
    `${basename(path)}:${line}: ${message} (fix it, or delete the file and run dstream providers lock)`,
  );
}

function readProvider(path: string, block: LockSyntaxBlock): LockedProvider {
  if (block.type !== "provider")
    throw invalid(path, block.line, `unexpected block "${block.type}"`);
  const digest = block.attributes.get("digest");
  if (typeof digest !== "string" || !isDigest(digest)) {
    throw invalid(path, block.line, `provider "${block.label}" needs digest = "${digestFormat}"`);
  }
  const platforms: Record<string, LockedPlatform> = {};
  for (const platform of block.blocks) {
    const binary = platform.attributes.get("binary");
    const size = platform.attributes.get("size");
    if (
      platform.type !== "platform" ||
      typeof binary !== "string" ||
      !isDigest(binary) ||
      typeof size !== "number"
    ) {
      throw invalid(
        path,
        platform.line,
        `provider "${block.label}" needs platform "os/arch" blocks with binary = "${digestFormat}" and size = <bytes>`,
      );
    }
    platforms[platform.label] = { digest: binary, size };
  }
  return { digest, platforms };
}

/** Reads the lock file; a missing file is an empty lock. */
export async function readLockFile(path: string): Promise<LockedProviders> {
  const file = Bun.file(path);
  if (!(await file.exists())) return new Map();
  let blocks: LockSyntaxBlock[];
  try {
    blocks = parseLockSyntax(await file.text());
  } catch (error) {
    if (!(error instanceof LockSyntaxError)) throw error;
    throw new DstreamError(
      "CONFIG_SYNTAX",
      `${basename(path)}:${error.message} (fix it, or delete the file and run dstream providers lock)`,
    );
  }
  const providers: LockedProviders = new Map();
  for (const block of blocks) providers.set(block.label, readProvider(path, block));
  return providers;
}

const quote = (text: string) => JSON.stringify(text);

export function formatLockFile(providers: LockedProviders): string {
  const lines = [...header];
  for (const reference of [...providers.keys()].sort()) {
    const provider = providers.get(reference) as LockedProvider;
    lines.push("", `provider ${quote(reference)} {`, `  digest = ${quote(provider.digest)}`);
    for (const platform of Object.keys(provider.platforms).sort()) {
      const locked = provider.platforms[platform] as LockedPlatform;
      lines.push(
        "",
        `  platform ${quote(platform)} {`,
        `    binary = ${quote(locked.digest)}`,
        `    size   = ${locked.size}`,
        "  }",
      );
    }
    lines.push("}");
  }
  return `${lines.join("\n")}\n`;
}

async function writeLockFile(path: string, providers: LockedProviders): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, formatLockFile(providers));
  await rename(temp, path);
}

/**
 * Changes the lock file under `<path>.lock`: read, change and write happen with no other dstream
 * process in between, so concurrent first pulls of different refs all keep their entries.
 */
export async function updateLockFile(
  path: string,
  change: (providers: LockedProviders) => void,
  options: FileLockOptions = {},
): Promise<void> {
  try {
    await withFileLock(
      path,
      async () => {
        const providers = await readLockFile(path);
        const before = formatLockFile(providers);
        change(providers);
        if (formatLockFile(providers) !== before) await writeLockFile(path, providers);
      },
      options,
    );
  } catch (error) {
    if (error instanceof DstreamError) throw error;
    const message =
      error instanceof LockWaitTimeout
        ? `another dstream process has held ${basename(error.lockPath)} for more than ${error.waitedMs / 1000} s, so ${basename(path)} could not be updated; if none is running, delete ${error.lockPath}`
        : `cannot write the lock file ${path}: ${messageOf(error)}`;
    throw new DstreamError("REGISTRY", message, { cause: error });
  }
}
