// `dstream list` on a 10-task file with the compiled binary, beside `dstream version` (the floor:
// process start without config) in the same interleaved run. Target: list median <= 150 ms.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { machineLine, timeCommands, timingTable } from "./timing.ts";

const TARGET_MS = 150;
const RUNS = Number(process.env.BENCH_RUNS ?? 40);

/** Ten tasks in the forms users write: refs, paths, built-ins, nested config, templates. */
export function tenTaskConfig(): string {
  const tasks: string[] = [];
  for (let index = 1; index <= 10; index++) {
    tasks.push(`task "pipeline-${index}" {
  type = "providers"
  input {
    provider_ref = "ghcr.io/acme/source-${index}:v1.${index}.0"
    config {
      connection_string = "{{ env \\"DSN_${index}\\" }}"
      tables            = ["orders", "customers", "items_${index}"]
      polling_interval  = ${index * 100}
      lock              = { type = "none" }
      retry {
        attempts = 3
        backoff  = "2s"
      }
    }
  }
  output {
    ${index % 2 === 0 ? 'provider = "console"' : `provider_path = "./bin/sink-${index}"`}
    config {
      prefix = "events/{{ date \\"2006-01-02\\" }}/"
      format = "json"
    }
  }
}
`);
  }
  return tasks.join("\n");
}

export default async function listBench(): Promise<string> {
  const binary = await buildBenchBinary();
  const folder = mkdtempSync(join(tmpdir(), "dstream-bench-list-"));
  try {
    writeFileSync(join(folder, "dstream.hcl"), tenTaskConfig());
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const [version, list] = timeCommands(
      [
        { label: "dstream version", argv: [binary.path, "version"], cwd: folder, env },
        { label: "dstream list (10 tasks)", argv: [binary.path, "list"], cwd: folder, env },
      ],
      { runs: RUNS, warmup: 3 },
    );
    if (!version || !list) throw new Error("timing returned no results");
    const verdict = list.medianMs <= TARGET_MS ? "met" : "missed";
    return [
      "## dstream list",
      "",
      `Compiled binary, a 10-task dstream.hcl, ${RUNS} interleaved runs each after 3 warm-ups.`,
      "`dstream version` starts the same binary without reading config: the floor for any command.",
      "",
      timingTable([version, list]),
      "",
      `list / version (median): ${(list.medianMs / version.medianMs).toFixed(1)}×; ` +
        `list − version: ${(list.medianMs - version.medianMs).toFixed(1)} ms (config layer: HCL ` +
        `parser start, parse, validate). Target list ≤ ${TARGET_MS} ms: ${verdict}.`,
      "",
      `Measured ${machineLine()}.`,
    ].join("\n");
  } finally {
    rmSync(folder, { recursive: true, force: true });
    binary.remove();
  }
}
