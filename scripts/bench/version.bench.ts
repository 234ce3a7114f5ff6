// Start-up of the compiled release binary (`dstream version`) beside `bun --version` in the same
// interleaved run, with and without bytecode; and the size of every platform's release binary.
// Target: `dstream version` median <= 30 ms.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAll, compile } from "../build.ts";
import { writeMainPackage, writePlatformPackage } from "../npm/generate.ts";
import { hostReleasePlatform, platformNamed, type ReleasePlatform } from "../platforms.ts";
import { machineLine, timeCommands, timingTable } from "./timing.ts";

const TARGET_MS = 30;
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const MiB = 1024 * 1024;
const QEMU = "/usr/bin/qemu-aarch64-static";
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";

/**
 * The cross-compiled linux-arm64 binary under qemu, with and without bytecode: Bun loads a
 * bytecode cache only when it fits the runtime, so a faster start shows it is used off the host.
 */
async function crossBytecodeCheck(folder: string, arm64Binary: string): Promise<string[]> {
  if (!existsSync(QEMU) || !existsSync(ARM64_SYSROOT)) {
    return ["linux-arm64 under qemu: not measured (needs qemu-user-static and libc6-arm64-cross)."];
  }
  const plain = join(folder, "dstream-linux-arm64-no-bytecode");
  await compile({
    outfile: plain,
    target: platformNamed("linux-arm64").bunTarget,
    bytecode: false,
  });
  const qemu = (binary: string) => [QEMU, "-L", ARM64_SYSROOT, binary, "version"];
  const timings = timeCommands(
    [
      { label: "linux-arm64 version (qemu)", argv: qemu(arm64Binary), cwd: folder },
      { label: "linux-arm64 version (qemu), no bytecode", argv: qemu(plain), cwd: folder },
    ],
    { runs: 10, warmup: 1, timeoutMs: 60_000 },
  );
  return [
    "The cross-compiled linux-arm64 binary under qemu-user (slow: emulated), 10 runs each:",
    "",
    timingTable(timings),
  ];
}

/** The layout `npm i -g dstream` leaves: the launcher package with this platform's package inside. */
function npmLayout(folder: string, dist: string, host: ReleasePlatform): string {
  const main = writeMainPackage(join(folder, "lib/node_modules"));
  writePlatformPackage(host, dist, join(main, "node_modules/@dstream"));
  return join(main, "bin/dstream.cjs");
}

function mebibytes(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

export default async function versionBench(): Promise<string> {
  const host = hostReleasePlatform();
  if (!host) throw new Error(`no release binary for ${process.platform}-${process.arch}`);
  const folder = mkdtempSync(join(tmpdir(), "dstream-bench-version-"));
  try {
    const built = await buildAll(join(folder, "dist"));
    const plain = join(folder, "dstream-no-bytecode");
    await compile({ outfile: plain, bytecode: false });
    const hostBinary = join(folder, "dist", host.binaryName);
    const launcher = npmLayout(folder, join(folder, "dist"), host);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const [bun, version, noBytecode, node, launched] = timeCommands(
      [
        { label: "bun --version", argv: [process.execPath, "--version"], cwd: folder, env },
        { label: `${host.binaryName} version`, argv: [hostBinary, "version"], cwd: folder, env },
        { label: "dstream version, no bytecode", argv: [plain, "version"], cwd: folder, env },
        { label: "node -e 0", argv: ["node", "-e", "0"], cwd: folder, env },
        {
          label: "dstream version via the npm launcher",
          argv: ["node", launcher, "version"],
          cwd: folder,
          env,
        },
      ],
      { runs: RUNS, warmup: 3 },
    );
    if (!bun || !version || !noBytecode || !node || !launched) {
      throw new Error("timing returned no results");
    }
    const sizes: string[] = [];
    for (const binary of built) {
      const bytes = statSync(binary.path).size;
      const gzipped = Bun.gzipSync(await Bun.file(binary.path).bytes()).length;
      const mode = binary.bytecode ? "minify + bytecode" : "minify (bytecode refused)";
      const file = `\`${binary.platform.binaryName}\``;
      sizes.push(
        `| ${binary.platform.name} | ${file} | ${mebibytes(bytes)} | ${mebibytes(gzipped)} | ${mode} |`,
      );
    }
    const verdict = version.medianMs <= TARGET_MS ? "met" : "missed";
    return [
      "## dstream version: start-up and binary sizes",
      "",
      `The release binary for this machine from \`build:all\`, ${RUNS} interleaved runs each after 3`,
      "warm-ups, beside `bun --version` (the same runtime doing no work of ours), the same build",
      "without bytecode, and the same binary started through the npm launcher (laid out as npm installs it).",
      "",
      timingTable([bun, version, noBytecode, node, launched]),
      "",
      `- \`dstream version\`: ${(version.medianMs / bun.medianMs).toFixed(1)}× \`bun --version\`, ` +
        `+${(version.medianMs - bun.medianMs).toFixed(1)} ms; target ≤ ${TARGET_MS} ms ${verdict}.`,
      `- bytecode saves ${(noBytecode.medianMs - version.medianMs).toFixed(1)} ms of start-up ` +
        `(${(noBytecode.medianMs / version.medianMs).toFixed(2)}× without it).`,
      `- the npm launcher adds ${(launched.medianMs - version.medianMs).toFixed(1)} ms ` +
        `(Node's own start-up, \`node -e 0\`: ${node.medianMs.toFixed(1)} ms); the release binary and install.sh avoid it.`,
      "",
      ...(await crossBytecodeCheck(
        folder,
        join(folder, "dist", platformNamed("linux-arm64").binaryName),
      )),
      "",
      "Release binaries (`bun run build:all`); gzip is about what the npm package tarball weighs.",
      "",
      "| platform | file | size | gzip | build |",
      "|---|---|---:|---:|---|",
      ...sizes,
      "",
      `Measured ${machineLine()}.`,
    ].join("\n");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.chdir(join(import.meta.dir, "../.."));
  process.stdout.write(`${await versionBench()}\n`);
}
