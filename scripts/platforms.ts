// The one platform table: drives the compile matrix, the npm platform packages and the launcher.

export type NodeOs = "linux" | "darwin" | "win32";
export type NodeArch = "x64" | "arm64";
export type Libc = "glibc" | "musl";

export interface ReleasePlatform {
  /** Short name used in file and package names: linux-x64, linux-x64-musl, windows-x64. */
  name: string;
  /** process.platform on this platform (npm's `os` field). */
  os: NodeOs;
  /** process.arch on this platform (npm's `cpu` field). */
  arch: NodeArch;
  /** Linux only: which C library the binary links against (npm's `libc` field). */
  libc?: Libc;
  /** Bun's `--target` for cross-compiling. */
  bunTarget: Bun.Build.CompileTarget;
  /** npm package carrying this platform's binary, an optional dependency of `dstream`. */
  npmPackage: string;
  /** File name of the binary in dist/ and in the GitHub release. */
  binaryName: string;
  /** File name of the binary inside its npm package (under bin/). */
  packagedBinaryName: string;
}

function platform(
  name: string,
  os: NodeOs,
  arch: NodeArch,
  bunTarget: Bun.Build.CompileTarget,
  libc?: Libc,
): ReleasePlatform {
  const exe = os === "win32" ? ".exe" : "";
  return {
    name,
    os,
    arch,
    ...(libc ? { libc } : {}),
    bunTarget,
    npmPackage: `@dstream/${name}`,
    binaryName: `dstream-${name}${exe}`,
    packagedBinaryName: `dstream${exe}`,
  };
}

export const releasePlatforms: readonly ReleasePlatform[] = [
  platform("linux-x64", "linux", "x64", "bun-linux-x64", "glibc"),
  platform("linux-arm64", "linux", "arm64", "bun-linux-arm64", "glibc"),
  platform("linux-x64-musl", "linux", "x64", "bun-linux-x64-musl", "musl"),
  platform("darwin-x64", "darwin", "x64", "bun-darwin-x64"),
  platform("darwin-arm64", "darwin", "arm64", "bun-darwin-arm64"),
  platform("windows-x64", "win32", "x64", "bun-windows-x64"),
];

export function platformNamed(name: string): ReleasePlatform {
  const found = releasePlatforms.find((candidate) => candidate.name === name);
  if (!found) {
    const known = releasePlatforms.map((candidate) => candidate.name).join(", ");
    throw new Error(`unknown platform "${name}" (known: ${known})`);
  }
  return found;
}

/** The platform this process runs on, or undefined when dstream ships no binary for it. */
export function hostReleasePlatform(): ReleasePlatform | undefined {
  const libc: Libc | undefined = process.platform === "linux" ? hostLibc() : undefined;
  return releasePlatforms.find(
    (candidate) =>
      candidate.os === process.platform &&
      candidate.arch === process.arch &&
      candidate.libc === libc,
  );
}

function hostLibc(): Libc {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report?.header?.glibcVersionRuntime ? "glibc" : "musl";
}
