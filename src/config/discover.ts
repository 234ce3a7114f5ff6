// Which config file to read: --config, else DSTREAM_CONFIG, else ./dstream.hcl.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { DstreamError } from "../errors.ts";

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
  } catch {
    throw new DstreamError(
      "CONFIG_NOT_FOUND",
      `config file not found: tried ${display} (${origin})`,
    );
  }
  if (!stats.isFile()) {
    throw new DstreamError("CONFIG_NOT_FOUND", `config file ${display} is not a file (${origin})`);
  }
  return { path, display };
}
