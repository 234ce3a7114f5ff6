// Platform names in Go/OCI form (linux|darwin|windows, amd64|arm64), as provider artifacts use them.

export interface Platform {
  os: string;
  architecture: string;
}

const osNames: Record<string, string> = { linux: "linux", darwin: "darwin", win32: "windows" };
const archNames: Record<string, string> = { x64: "amd64", arm64: "arm64" };

export function hostPlatform(): Platform {
  return {
    os: osNames[process.platform] ?? process.platform,
    architecture: archNames[process.arch] ?? process.arch,
  };
}

export function formatPlatform(platform: Platform): string {
  return `${platform.os}/${platform.architecture}`;
}
