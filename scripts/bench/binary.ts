// A freshly compiled dstream binary in a temp folder for benchmarks (dist/ may be mid-rebuild).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../build.ts";

export interface BenchBinary {
  path: string;
  folder: string;
  remove(): void;
}

export async function buildBenchBinary(): Promise<BenchBinary> {
  const folder = mkdtempSync(join(tmpdir(), "dstream-bench-"));
  const path = join(folder, "dstream");
  await compile({ outfile: path });
  return { path, folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}
