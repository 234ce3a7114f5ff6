// Relay figures (issue 3): throughput of file(raw) -> null beside `cat f | cat | cat > /dev/null`,
// peak RSS of the dstream process at 1M and 5M lines, memory under a slow output, first-event latency.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../build.ts";

const RUNS = 3;

interface Timed {
  seconds: number;
  peakRssBytes: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** VmHWM of a live process: its peak RSS over all its threads, children excluded. */
function peakRss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function timeCommand(
  argv: string[],
  cwd: string,
  stdoutTo: "ignore" | "pipe" = "ignore",
): Promise<Timed> {
  const started = performance.now();
  const child = Bun.spawn(argv, { cwd, stdout: stdoutTo, stderr: "pipe" });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakRss(child.pid));
  }, 20);
  const stderr = new Response(child.stderr).text();
  const code = await child.exited;
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await stderr}`);
  return { seconds, peakRssBytes: peak };
}

async function writeLines(path: string, count: number): Promise<number> {
  const writer = Bun.file(path).writer({ highWaterMark: 1 << 22 });
  const filler = "x".repeat(110);
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const line = `{"data":{"id":${index},"name":"${filler}","ok":true},"metadata":{"table":"orders","operation":"insert","sequence":${index}}}\n`;
    bytes += line.length;
    writer.write(line);
  }
  await writer.end();
  return bytes;
}

function pipelineFile(folder: string, name: string, input: string, output: string): string {
  const path = join(folder, `${name}.hcl`);
  writeFileSync(
    path,
    `task "${name}" {\n  input {\n${input}\n  }\n  output {\n${output}\n  }\n}\n`,
  );
  return path;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export default async function relayBench(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), "dstream-bench-relay-"));
  try {
    const binary = join(folder, "dstream");
    await compile({ outfile: binary });
    const files = { "1M": join(folder, "1m.jsonl"), "5M": join(folder, "5m.jsonl") };
    const sizes = {
      "1M": await writeLines(files["1M"], 1_000_000),
      "5M": await writeLines(files["5M"], 5_000_000),
    };
    const rows: string[] = [];

    // Throughput and peak RSS: alternate dstream and the cat pipeline so both see the same machine.
    const results: Record<string, { dstream: Timed[]; cat: Timed[] }> = {};
    for (const size of ["1M", "5M"] as const) {
      const config = pipelineFile(
        folder,
        `relay${size}`,
        `    provider = "file"\n    config {\n      path = "${files[size]}"\n      format = "raw"\n    }`,
        '    provider = "null"',
      );
      const entry = { dstream: [] as Timed[], cat: [] as Timed[] };
      for (let run = 0; run < RUNS; run++) {
        entry.cat.push(
          await timeCommand(["sh", "-c", `cat '${files[size]}' | cat | cat > /dev/null`], folder),
        );
        entry.dstream.push(
          await timeCommand([binary, "run", `relay${size}`, "-c", config, "--quiet"], folder),
        );
      }
      results[size] = entry;
    }
    for (const size of ["1M", "5M"] as const) {
      const entry = results[size];
      if (!entry) continue;
      const dstreamSeconds = median(entry.dstream.map((timed) => timed.seconds));
      const catSeconds = median(entry.cat.map((timed) => timed.seconds));
      const lines = size === "1M" ? 1_000_000 : 5_000_000;
      rows.push(
        `| ${size} lines (${mib(sizes[size])}) | ${dstreamSeconds.toFixed(2)} s | ${catSeconds.toFixed(2)} s | ` +
          `${((catSeconds / dstreamSeconds) * 100).toFixed(0)}% | ${Math.round(lines / dstreamSeconds).toLocaleString("en-US")} | ` +
          `${mib(Math.max(...entry.dstream.map((timed) => timed.peakRssBytes)))} |`,
      );
    }
    const rss1 = Math.max(...(results["1M"]?.dstream ?? []).map((timed) => timed.peakRssBytes));
    const rss5 = Math.max(...(results["5M"]?.dstream ?? []).map((timed) => timed.peakRssBytes));

    // Slow output: a reader taking one line per millisecond; the relay buffer bound must hold.
    const slowReader = join(folder, "slow-reader.py");
    writeFileSync(
      slowReader,
      "import sys, time\nsys.stdin.readline()\nfor line in sys.stdin:\n    time.sleep(0.001)\n",
    );
    const slowConfig = pipelineFile(
      folder,
      "slow",
      `    provider = "file"\n    config {\n      path = "${files["1M"]}"\n      format = "raw"\n    }`,
      `    provider_path = "./slow.sh"`,
    );
    writeFileSync(join(folder, "slow.sh"), `#!/bin/sh\nexec python3 '${slowReader}'\n`, {
      mode: 0o755,
    });
    const slow = Bun.spawn(
      [binary, "run", "slow", "-c", slowConfig, "--quiet", "--stats-json", "slow.json"],
      {
        cwd: folder,
        stdout: "ignore",
        stderr: "ignore",
      },
    );
    let slowPeak = 0;
    const sampler = setInterval(() => {
      slowPeak = Math.max(slowPeak, peakRss(slow.pid));
    }, 100);
    await Bun.sleep(10_000);
    slow.kill("SIGTERM");
    await slow.exited;
    clearInterval(sampler);
    const slowStats = JSON.parse(await Bun.file(join(folder, "slow.json")).text());

    // First event: counter with interval 0 -> console; time from spawn to the first stdout byte.
    const firstConfig = pipelineFile(
      folder,
      "first",
      '    provider = "counter"\n    config {\n      interval = 0\n      maxCount = 1\n    }',
      '    provider = "console"',
    );
    const firstTimes: number[] = [];
    const versionTimes: number[] = [];
    for (let run = 0; run < 7; run++) {
      versionTimes.push((await timeCommand([binary, "version"], folder)).seconds * 1000);
      const started = performance.now();
      const child = Bun.spawn([binary, "run", "first", "-c", firstConfig, "--quiet"], {
        cwd: folder,
        stdout: "pipe",
      });
      const reader = child.stdout.getReader();
      await reader.read();
      firstTimes.push(performance.now() - started);
      await child.exited;
    }

    return [
      "## Relay (issue 3)",
      "",
      `Raw JSONL file input -> null output through \`dstream run\`, beside \`cat f | cat | cat > /dev/null\`, median of ${RUNS} alternating runs. Peak RSS is the dstream process's VmHWM (main thread + relay worker, providers excluded).`,
      "",
      "| input | dstream | cat pipeline | dstream speed vs cat (target >= 85%) | lines/s | dstream peak RSS |",
      "|---|---|---|---|---|---|",
      ...rows,
      "",
      `Peak RSS 5M / 1M: ${(rss5 / rss1).toFixed(2)} (target: within 10%, i.e. <= 1.10).`,
      "",
      `Slow output (1 line/ms) for 10 s, --buffer-bytes 8 MiB: dstream peak RSS ${mib(slowPeak)}; relay buffered at most ${mib(slowStats.bufferedMax)}; ${slowStats.lines.toLocaleString("en-US")} lines delivered, ${slowStats.waits.toLocaleString("en-US")} backpressure waits.`,
      "",
      `Time from \`dstream run\` to the first event at the output (counter interval 0 -> console): median ${median(firstTimes).toFixed(0)} ms, beside \`dstream version\` ${median(versionTimes).toFixed(0)} ms.`,
      "",
    ].join("\n");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.chdir(join(import.meta.dir, "..", ".."));
  console.log(await relayBench());
}
