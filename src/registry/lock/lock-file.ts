// dstream.lock.hcl: per provider_ref the resolved index/manifest digest and every platform's binary
// digest, so a lock written on a laptop verifies on a Linux server. Written atomically, by one
// process at a time.
import { rename, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { DstreamError, messageOf } from "../../errors.ts";
import { HclSyntaxError, type Outline, outlineHcl, outlineKey, parseHcl } from "../../hcl/index.ts";
import { digestFormat, isDigest } from "../../oci/index.ts";
import { RegistryError } from "../remedy.ts";
import { type FileLockOptions, LockWaitTimeout, withFileLock } from "./file-lock.ts";

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

/** hcl2json's JSON of a body: attributes as values, blocks as label → [body]. */
type Body = Record<string, unknown>;

const isObject = (value: unknown): value is Body =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** hcl2json writes blocks as objects (labelled) or arrays (not): close enough for a message. */
const kindOf = (value: unknown) =>
  isObject(value) || Array.isArray(value) ? "block" : "attribute";

/** Reads the checked JSON of the lock file, naming the position of whatever is wrong. */
class LockReader {
  private readonly outline: Outline;

  constructor(
    private readonly path: string,
    source: string,
  ) {
    this.outline = outlineHcl(source);
  }

  invalid(where: string[], message: string): RegistryError {
    const at = this.outline.positions.get(outlineKey(where))?.[0];
    const position = at ? `${at.line}:${at.column}:` : "";
    return new RegistryError("CONFIG_INVALID", `${basename(this.path)}:${position} ${message}`, {
      kind: "relock",
    });
  }

  /** The one body of a block with one label; `path` ends with the block's type. */
  private body(path: string[], label: string, bodies: unknown): Body {
    if (!Array.isArray(bodies) || !isObject(bodies[0])) {
      throw this.invalid([...path, label], `${path.at(-1)} ${quote(label)} has a second label`);
    }
    if (bodies.length > 1) {
      throw this.invalid([...path, label], `${path.at(-1)} ${quote(label)} is written twice`);
    }
    return bodies[0];
  }

  /** `type "label" { }` blocks only; anything else at `path` is refused. */
  private labelled(path: string[], type: string, value: unknown): [string, unknown][] {
    if (!isObject(value)) {
      throw this.invalid(
        [...path, type],
        `${type} blocks need one label: ${type} "${type === "platform" ? "os/arch" : "<provider_ref>"}" { ... }`,
      );
    }
    return Object.entries(value);
  }

  providers(json: Body): LockedProviders {
    const providers: LockedProviders = new Map();
    for (const [type, value] of Object.entries(json)) {
      if (type !== "provider")
        throw this.invalid([type], `unexpected ${kindOf(value)} ${quote(type)}`);
      for (const [label, bodies] of this.labelled([], "provider", value)) {
        providers.set(label, this.provider(label, this.body(["provider"], label, bodies)));
      }
    }
    return providers;
  }

  private provider(label: string, body: Body): LockedProvider {
    const where = ["provider", label];
    const { digest } = body;
    if (typeof digest !== "string" || !isDigest(digest)) {
      const at = digest === undefined ? where : [...where, "digest"];
      throw this.invalid(at, `provider ${quote(label)} needs digest = "${digestFormat}"`);
    }
    const platforms: Record<string, LockedPlatform> = {};
    for (const [type, value] of Object.entries(body)) {
      if (type === "digest") continue;
      if (type !== "platform") {
        throw this.invalid(
          [...where, type],
          `unexpected ${kindOf(value)} ${quote(type)} in provider ${quote(label)}`,
        );
      }
      for (const [platform, bodies] of this.labelled(where, "platform", value)) {
        const { binary, size } = this.body([...where, "platform"], platform, bodies);
        if (
          typeof binary !== "string" ||
          !isDigest(binary) ||
          typeof size !== "number" ||
          !Number.isSafeInteger(size) ||
          size < 0
        ) {
          throw this.invalid(
            [...where, "platform", platform],
            `provider ${quote(label)} needs platform "os/arch" blocks with binary = "${digestFormat}" and size = <bytes>`,
          );
        }
        platforms[platform] = { digest: binary, size };
      }
    }
    return { digest, platforms };
  }
}

// A label of plain characters: HCL and JSON read it alike (no escapes, no ${ } templates).
const plainLine =
  /^(?:provider "([^"\\$%\p{Cc}]*)" \{| {2}digest = "([a-z0-9:]*)"| {2}platform "([^"\\$%\p{Cc}]*)" \{| {4}binary = "([a-z0-9:]*)"| {4}size {3}= (0|[1-9][0-9]{0,14})| {2}\}|\}|#.*|)$/u;

/**
 * The lock file as formatLockFile writes it, read without starting the HCL parser (about 100 ms
 * of every run's start): line by line, and accepted only when writing the result gives back the
 * very same text. Any other text (edited by hand, damaged) is left to the HCL parser.
 */
function readWrittenForm(source: string): LockedProviders | undefined {
  const providers: LockedProviders = new Map();
  let provider: LockedProvider | undefined;
  let platform: LockedPlatform | undefined;
  for (const line of source.split("\n")) {
    const match = plainLine.exec(line);
    if (!match) return undefined;
    const [, reference, digest, os, binary, size] = match;
    if (reference !== undefined) {
      provider = { digest: "", platforms: {} };
      providers.set(reference, provider);
    } else if (digest !== undefined && provider) provider.digest = digest;
    else if (os !== undefined && provider) {
      platform = { digest: "", size: 0 };
      provider.platforms[os] = platform;
    } else if (binary !== undefined && platform) platform.digest = binary;
    else if (size !== undefined && platform) platform.size = Number(size);
  }
  const digests = [...providers.values()].flatMap((entry) => [
    entry.digest,
    ...Object.values(entry.platforms).map((locked) => locked.digest),
  ]);
  if (!digests.every(isDigest)) return undefined;
  return formatLockFile(providers) === source ? providers : undefined;
}

/** Reads the lock file with the HCL parser of dstream.hcl; a missing file is an empty lock. */
export async function readLockFile(path: string): Promise<LockedProviders> {
  const file = Bun.file(path);
  if (!(await file.exists())) return new Map();
  const source = await file.text();
  const written = readWrittenForm(source);
  if (written) return written;
  let json: Body;
  try {
    json = await parseHcl(source);
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error;
    const [first] = error.diagnostics;
    const at = first && first.line > 0 ? `${first.line}:${first.column}: ` : " ";
    throw new RegistryError(
      "CONFIG_SYNTAX",
      `${basename(path)}:${at}${first?.summary ?? "invalid HCL"}`,
      { kind: "relock" },
      { cause: error },
    );
  }
  return new LockReader(path, source).providers(json);
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
