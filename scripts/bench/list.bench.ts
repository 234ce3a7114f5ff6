// `dstream list` on a 10-task file with the compiled binary, with and without the parse cache,
// beside `dstream version` (the floor: process start without config) in the same interleaved run.
// Target: list median <= 150 ms.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { machineLine, type Timing, timeCommands, timingTable } from "./timing.ts";

const TARGET_MS = 150;
const RUNS = Number(process.env.BENCH_RUNS ?? 40);

/** Ten tasks in the forms users write: refs, paths, built-ins, nested config, templates. */
function tenTaskConfig(): string {
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
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      XDG_CACHE_HOME: join(folder, "cache"), // a private parse cache, filled by the warm-ups
    };
    const [version, cached, uncached] = timeCommands(
      [
        { label: "dstream version", argv: [binary.path, "version"], cwd: folder, env },
        { label: "dstream list (10 tasks)", argv: [binary.path, "list"], cwd: folder, env },
        {
          label: "dstream list (10 tasks), no parse cache",
          argv: [binary.path, "list"],
          cwd: folder,
          env: { ...env, DSTREAM_NO_PARSE_CACHE: "1" },
        },
      ],
      { runs: RUNS, warmup: 3 },
    );
    if (!version || !cached || !uncached) throw new Error("timing returned no results");
    const verdict = (timing: Timing) => (timing.medianMs <= TARGET_MS ? "met" : "missed");
    const versus = (timing: Timing) =>
      `${(timing.medianMs / version.medianMs).toFixed(1)}× version, ` +
      `+${(timing.medianMs - version.medianMs).toFixed(1)} ms`;
    return [
      "## dstream list",
      "",
      `Compiled binary, a 10-task dstream.hcl, ${RUNS} interleaved runs each after 3 warm-ups.`,
      "`dstream version` starts the same binary without reading config: the floor for any command.",
      "`list` of an unchanged file reuses its cached parse; without the cache it compiles and runs",
      "the HCL parser's wasm (a first run, or an edited file).",
      "",
      timingTable([version, cached, uncached]),
      "",
      `- list, parse cached: ${versus(cached)}; target ≤ ${TARGET_MS} ms ${verdict(cached)}.`,
      `- list, no parse cache: ${versus(uncached)}; target ≤ ${TARGET_MS} ms ${verdict(uncached)}.`,
      "",
      `Measured ${machineLine()}.`,
    ].join("\n");
  } finally {
    rmSync(folder, { recursive: true, force: true });
    binary.remove();
  }
}
