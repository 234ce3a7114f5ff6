// Provider pulls from the real registry (docker-registry on loopback): a 100 MB provider pulled by
// dstream beside curl fetching the same blob (target ≤ 1.25×), and a cached, locked run's start-up
// beside the same task with provider_path (target ≤ 20 ms more). Interleaved runs, one machine.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform, parseReference } from "../../src/oci/index.ts";
import { resolveProviderRef } from "../../src/registry/index.ts";
import { startRegistry } from "../../test/helpers/registry.ts";
import { buildBenchBinary } from "./binary.ts";
import {
  machineLine,
  type TimedCommand,
  type Timing,
  timeCommands,
  timingTable,
} from "./timing.ts";

const SIZE = 100 * 1024 * 1024;
const PULL_RUNS = Number(process.env.BENCH_RUNS ?? 10);
const START_RUNS = Number(process.env.BENCH_RUNS ?? 30);

/** An executable of SIZE bytes: a shell script that reads its envelope and exits, padded with random bytes. */
function bigProvider(path: string): void {
  const bytes = new Uint8Array(SIZE);
  const block = new Uint8Array(65536);
  crypto.getRandomValues(block);
  for (let offset = 0; offset < SIZE; offset += block.length) {
    block[0] = offset & 0xff;
    bytes.set(block.subarray(0, Math.min(block.length, SIZE - offset)), offset);
  }
  bytes.set(new TextEncoder().encode("#!/bin/sh\nread envelope\nexit 0\n"));
  writeFileSync(path, bytes);
  chmodSync(path, 0o755);
}

function run(argv: string[], cwd: string, env: Record<string, string>): string {
  const result = Bun.spawnSync(argv, {
    cwd,
    env,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 120_000,
  });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** resolveProviderRef in this process (locked, empty cache) interleaved with the curl command. */
async function timeDownloadCore(
  curl: TimedCommand,
  reference: string,
  dir: string,
): Promise<Timing[]> {
  const parsed = parseReference(reference);
  if ("error" in parsed) throw new Error(parsed.error);
  const cacheDir = join(dir, "core-cache");
  const samples: [number[], number[]] = [[], []];
  for (let round = 0; round <= PULL_RUNS; round++) {
    samples[0].push(timeCommands([curl], { runs: 1, warmup: 0 })[0]?.medianMs ?? Number.NaN);
    rmSync(cacheDir, { recursive: true, force: true });
    const started = performance.now();
    await resolveProviderRef(parsed, {
      lockFilePath: join(dir, "dstream.lock.hcl"),
      cacheDir,
    });
    samples[1].push(performance.now() - started);
  }
  const summary = (label: string, values: number[]): Timing => {
    const sorted = values.slice(1).sort((a, b) => a - b);
    return {
      label,
      samplesMs: sorted,
      medianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
      minMs: sorted[0] ?? Number.NaN,
      p90Ms: sorted[Math.ceil(sorted.length * 0.9) - 1] ?? Number.NaN,
    };
  };
  return [
    summary("curl (same blob)", samples[0]),
    summary("resolveProviderRef (in-process)", samples[1]),
  ];
}

function taskConfig(source: string): string {
  return `task "t" {\n  input {\n    ${source}\n  }\n  output {\n    provider = "null"\n  }\n}\n`;
}

export default async function pullBench(): Promise<string> {
  const binary = await buildBenchBinary();
  const registry = await startRegistry();
  const folder = mkdtempSync(join(tmpdir(), "dstream-bench-pull-"));
  try {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: folder };
    const platform = formatPlatform(hostPlatform());
    const providerFile = join(folder, "big-provider");
    bigProvider(providerFile);
    const reference = `${registry.host}/bench/big:v1`;
    run(
      [binary.path, "providers", "push", reference, "--platform", `${platform}=${providerFile}`],
      folder,
      env,
    );
    const digest = `sha256:${new Bun.CryptoHasher("sha256").update(await Bun.file(providerFile).bytes()).digest("hex")}`;

    const refDir = join(folder, "ref");
    const pathDir = join(folder, "path");
    for (const dir of [refDir, pathDir]) rmSync(dir, { recursive: true, force: true });
    Bun.spawnSync(["mkdir", "-p", refDir, pathDir]);
    writeFileSync(join(refDir, "dstream.hcl"), taskConfig(`provider_ref = "${reference}"`));
    writeFileSync(join(pathDir, "dstream.hcl"), taskConfig(`provider_path = "${providerFile}"`));
    const refEnv = { ...env, DSTREAM_CACHE_DIR: join(refDir, "cache") };
    const shell = (script: string) => ["sh", "-c", script];
    const blobUrl = `http://${registry.host}/v2/bench/big/blobs/${digest}`;

    // Each run starts with no provider cached (and, unlocked, no lock file); curl gets the same rm.
    const curlCommand = {
      label: "curl (same blob)",
      argv: shell(`rm -f out && curl -sf -o out ${blobUrl}`),
      cwd: refDir,
      env,
    };
    const pulls = timeCommands(
      [
        curlCommand,
        {
          label: "dstream providers pull (unlocked)",
          argv: shell(
            `rm -rf cache/blobs cache/refs dstream.lock.hcl && ${binary.path} providers pull`,
          ),
          cwd: refDir,
          env: refEnv,
        },
        {
          label: "dstream providers pull (locked)",
          argv: shell(`rm -rf cache/blobs cache/refs && ${binary.path} providers pull`),
          cwd: refDir,
          env: refEnv,
        },
      ],
      { runs: PULL_RUNS, warmup: 1, timeoutMs: 120_000 },
    );
    const core = await timeDownloadCore(curlCommand, reference, refDir);
    run([binary.path, "providers", "pull"], refDir, refEnv);
    const starts = timeCommands(
      [
        {
          label: "dstream run (provider_path)",
          argv: [binary.path, "run", "t", "--quiet"],
          cwd: pathDir,
          env,
        },
        {
          label: "dstream run (provider_ref, cached + locked)",
          argv: [binary.path, "run", "t", "--quiet"],
          cwd: refDir,
          env: refEnv,
        },
      ],
      { runs: START_RUNS, warmup: 3 },
    );
    const [curl, unlocked, locked] = pulls;
    const [byPath, byRef] = starts;
    if (!curl || !unlocked || !locked || !byPath || !byRef) {
      throw new Error("timing returned no results");
    }
    const ratio = unlocked.medianMs / curl.medianMs;
    const lockedRatio = locked.medianMs / curl.medianMs;
    const coreRatio = (core[1]?.medianMs ?? Number.NaN) / (core[0]?.medianMs ?? Number.NaN);
    const extra = byRef.medianMs - byPath.medianMs;
    const verdict = (met: boolean) => (met ? "met" : "missed");
    return [
      "## Provider pull from an OCI registry",
      "",
      `A ${SIZE / 1024 / 1024} MiB provider in the CNCF registry (docker-registry) on loopback, compiled binary,`,
      `${PULL_RUNS} interleaved runs each after 1 warm-up; every run starts with no provider in the cache`,
      "(the HCL parse cache stays, as on any machine after its first command). dstream",
      "resolves the tag (index + platform manifest), streams the blob through sha256 into a temp file and",
      "renames it into the cache; curl only writes the blob to a file.",
      "",
      timingTable([curl, unlocked, locked]),
      "",
      `Unlocked pull / curl (median): ${ratio.toFixed(2)}×; locked pull / curl: ${lockedRatio.toFixed(2)}×. Target ≤ 1.25×: ${verdict(ratio <= 1.25)}.`,
      "Both commands include loading dstream.hcl; `dstream list` shows what that costs alone.",
      "",
      "The download itself, in-process (`resolveProviderRef`, locked, empty cache) beside curl:",
      "",
      timingTable(core),
      "",
      `Download / curl (median): ${coreRatio.toFixed(2)}×.`,
      "",
      `Start-up of \`dstream run\` (input exits at once, null output), ${START_RUNS} interleaved runs:`,
      "",
      timingTable([byPath, byRef]),
      "",
      `Cached, locked provider_ref − provider_path (median): ${extra.toFixed(1)} ms. Target ≤ 20 ms: ${verdict(extra <= 20)}.`,
      "",
      `Measured ${machineLine()}.`,
    ].join("\n");
  } finally {
    await registry.stop();
    rmSync(folder, { recursive: true, force: true });
    binary.remove();
  }
}

if (import.meta.main) process.stdout.write(`${await pullBench()}\n`);
