// Memory stays flat under sustained backpressure: a 60-second soak of the compiled binary with an
// input as fast as it goes into an output reading ~1 line/ms, dstream's RSS sampled every second,
// beside an idle pipeline (1 line/s) sampled the same way in the same run as the baseline.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { machineLine } from "./timing.ts";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const BUFFER = "8MiB";
const slowOutput = join(import.meta.dir, "../../test/faults/fixtures/recording-output.py");

function pipeline(name: string, interval: number, output: string): string {
  return `task "${name}" {
  input {
    provider = "counter"
    config {
      interval = ${interval}
      maxCount = 0
    }
  }
  output {
    ${output}
  }
}
`;
}

/** Resident set size of one process in bytes, from /proc (Linux). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

interface Soaked {
  label: string;
  samples: number[];
  stats: { lines: number; bufferedMax: number; waits: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts every run, samples each one's RSS once a second, then forces the stop (two SIGINTs). */
async function soak(
  binary: string,
  folder: string,
  runs: { label: string; task: string }[],
): Promise<Soaked[]> {
  const children = runs.map(({ task }) =>
    Bun.spawn(
      [
        binary,
        "run",
        task,
        "--quiet",
        "--buffer-bytes",
        BUFFER,
        "--stats-json",
        join(folder, `${task}.json`),
      ],
      { cwd: folder, stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "" } },
    ),
  );
  const samples = runs.map(() => [] as number[]);
  try {
    await sleep(1000);
    for (let second = 0; second < SECONDS; second++) {
      children.forEach((child, index) => {
        if (child.exitCode !== null) throw new Error(`${runs[index]?.label} ended early`);
        samples[index]?.push(rssOf(child.pid));
      });
      await sleep(1000);
    }
  } finally {
    for (const child of children) child.kill("SIGINT");
    await sleep(300);
    for (const child of children) child.kill("SIGINT");
    const deadline = setTimeout(() => {
      for (const child of children) child.kill("SIGKILL");
    }, 10_000);
    await Promise.all(children.map((child) => child.exited));
    clearTimeout(deadline);
  }
  return runs.map(({ label, task }, index) => ({
    label,
    samples: samples[index] ?? [],
    stats: JSON.parse(readFileSync(join(folder, `${task}.json`), "utf8")),
  }));
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export default async function soakBench(): Promise<string> {
  const binary = await buildBenchBinary();
  const folder = mkdtempSync(join(tmpdir(), "dstream-bench-soak-"));
  try {
    writeFileSync(
      join(folder, "dstream.hcl"),
      pipeline(
        "soak",
        0,
        `provider_path = ${JSON.stringify(slowOutput)}\n    config {\n      recordFile = "/dev/null"\n      delayMs = 1\n    }`,
      ) + pipeline("idle", 1000, 'provider = "null"'),
    );
    const [busy, idle] = await soak(binary.path, folder, [
      { label: "fast input -> 1 line/ms output", task: "soak" },
      { label: "baseline: 1 line/s -> null", task: "idle" },
    ]);
    if (!busy || !idle) throw new Error("soak returned no results");
    const min = (values: number[]) => Math.min(...values);
    const max = (values: number[]) => Math.max(...values);
    const tenth = Math.max(1, Math.floor(SECONDS / 10));
    const firstMax = max(busy.samples.slice(0, tenth));
    const lastMax = max(busy.samples.slice(-tenth));
    const row = (run: Soaked) =>
      `| ${run.label} | ${mib(min(run.samples))} | ${mib(max(run.samples))} | ${run.stats.lines.toLocaleString("en-US")} | ${run.stats.waits.toLocaleString("en-US")} | ${mib(run.stats.bufferedMax)} |`;
    return [
      "## Soak: memory under sustained backpressure",
      "",
      `Compiled binary, ${SECONDS} s, \`--buffer-bytes ${BUFFER}\`; dstream's RSS (its own process: main thread and relay worker, not the providers) read from /proc once a second. ${machineLine()}.`,
      "",
      "| run | RSS min | RSS max | lines relayed | backpressure waits | buffered max |",
      "|---|---:|---:|---:|---:|---:|",
      row(busy),
      row(idle),
      "",
      `Under backpressure dstream's peak RSS is ${(max(busy.samples) / max(idle.samples)).toFixed(2)}× the idle pipeline's; its peak in the last ${tenth} s is ${(lastMax / firstMax).toFixed(2)}× its peak in the first ${tenth} s (flat memory: close to 1).`,
      "",
      `RSS every ${tenth} s under backpressure: ${busy.samples
        .filter((_, index) => index % tenth === 0)
        .map(mib)
        .join(", ")}.`,
    ].join("\n");
  } finally {
    rmSync(folder, { recursive: true, force: true });
    binary.remove();
  }
}
