// Start-up of the compiled release binary (`dstream version`) beside `bun --version` in the same
// interleaved run, with and without bytecode; and the size of every platform's release binary.
// Target: `dstream version` median <= 30 ms.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAll, compile } from "../build.ts";
import { hostReleasePlatform } from "../platforms.ts";
import { machineLine, timeCommands, timingTable } from "./timing.ts";

const TARGET_MS = 30;
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const MiB = 1024 * 1024;

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
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const [bun, version, noBytecode] = timeCommands(
      [
        { label: "bun --version", argv: [process.execPath, "--version"], cwd: folder, env },
        { label: `${host.binaryName} version`, argv: [hostBinary, "version"], cwd: folder, env },
        { label: "dstream version, no bytecode", argv: [plain, "version"], cwd: folder, env },
      ],
      { runs: RUNS, warmup: 3 },
    );
    if (!bun || !version || !noBytecode) throw new Error("timing returned no results");
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
      "warm-ups, beside `bun --version` (the same runtime doing no work of ours) and the same build",
      "without bytecode.",
      "",
      timingTable([bun, version, noBytecode]),
      "",
      `- \`dstream version\`: ${(version.medianMs / bun.medianMs).toFixed(1)}× \`bun --version\`, ` +
        `+${(version.medianMs - bun.medianMs).toFixed(1)} ms; target ≤ ${TARGET_MS} ms ${verdict}.`,
      `- bytecode saves ${(noBytecode.medianMs - version.medianMs).toFixed(1)} ms of start-up ` +
        `(${(noBytecode.medianMs / version.medianMs).toFixed(2)}× without it).`,
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
