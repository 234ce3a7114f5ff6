// What this build is: version from package.json, git commit stamped in by scripts/build.ts.
import packageJson from "../package.json" with { type: "json" };
import { formatPlatform, hostPlatform } from "./oci/index.ts";

declare const __DSTREAM_COMMIT__: string | undefined;

export interface VersionInfo {
  version: string;
  commit: string;
  bun: string;
  platform: string;
}

export function versionInfo(): VersionInfo {
  return {
    version: packageJson.version,
    commit: typeof __DSTREAM_COMMIT__ === "string" ? __DSTREAM_COMMIT__ : "dev",
    bun: Bun.version,
    platform: formatPlatform(hostPlatform()),
  };
}

/** True inside a `bun build --compile` binary, whose modules live in Bun's virtual filesystem. */
export function isCompiledBinary(): boolean {
  return import.meta.dir.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/.test(import.meta.dir);
}
