// Which config file to read: --config, else DSTREAM_CONFIG, else ./dstream.hcl.
import { readlinkSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { DstreamError, errorCode } from "../errors.ts";

export interface ConfigLocation {
  /** Absolute path. */
  path: string;
  /** The path as the user gave it, for messages. */
  display: string;
}

export interface DiscoverOptions {
  flag?: string | undefined;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export function findConfigFile(options: DiscoverOptions = {}): ConfigLocation {
  if (options.flag === "") {
    // An empty --config= (often an unset shell variable) must not fall back to another file.
    throw new DstreamError("USAGE", "--config is empty: give the config file's path");
  }
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const [display, origin] = options.flag
    ? [options.flag, "from --config"]
    : env.DSTREAM_CONFIG
      ? [env.DSTREAM_CONFIG, "from DSTREAM_CONFIG"]
      : ["dstream.hcl", "the default; set --config or DSTREAM_CONFIG"];
  const path = resolve(cwd, display);
  let stats: ReturnType<typeof statSync> | undefined;
  try {
    stats = statSync(path);
  } catch (error) {
    throw new DstreamError("CONFIG_NOT_FOUND", unreachable(error, path, display, origin), {
      cause: error,
    });
  }
  if (!stats.isFile()) {
    throw new DstreamError("CONFIG_NOT_FOUND", `config file ${display} is not a file (${origin})`);
  }
  return { path, display };
}

/** Why the config file cannot be opened, in the user's terms (stat follows symbolic links). */
function unreachable(error: unknown, path: string, display: string, origin: string): string {
  const code = errorCode(error);
  if (code === "ELOOP") {
    return `config file ${display} is a loop of symbolic links, or a chain too long to follow (${origin})`;
  }
  if (code === "EACCES") return `config file ${display}: permission denied (${origin})`;
  if (code === "ENOENT") {
    let target: string | undefined;
    try {
      target = readlinkSync(path);
    } catch {
      // Not a symbolic link: the file itself is missing.
    }
    if (target !== undefined) {
      return `config file not found: ${display} is a symbolic link to ${target}, which does not exist (${origin})`;
    }
  }
  return `config file not found: tried ${display} (${origin})`;
}
