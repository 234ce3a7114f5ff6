// Platform names in Go/OCI form (linux|darwin|windows, amd64|arm64), as provider artifacts use them.

export interface Platform {
  os: string;
  architecture: string;
}

const osNames: Record<string, string> = { linux: "linux", darwin: "darwin", win32: "windows" };
const archNames: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/** Node's names (process.platform, process.arch) in Go's; others pass through unchanged. */
export function goPlatform(nodeOs: string, nodeArch: string): Platform {
  return { os: osNames[nodeOs] ?? nodeOs, architecture: archNames[nodeArch] ?? nodeArch };
}

export function hostPlatform(): Platform {
  return goPlatform(process.platform, process.arch);
}

export function formatPlatform(platform: Platform): string {
  return `${platform.os}/${platform.architecture}`;
}
