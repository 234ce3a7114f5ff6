// Runs the benchmarks one after another and rewrites their sections of docs/benchmarks.md.
//
// Convention: each scripts/bench/<name>.bench.ts default-exports
//   async function (): Promise<string>
// returning one markdown section that starts with "## <title>" and shows its figures beside a
// baseline measured in the same run (ratios, never absolute targets alone). The runner stores it
// in docs/benchmarks.md between `<!-- bench:<name> -->` markers, replacing the previous result of
// that benchmark only, or appending a new section. `bun run bench` runs all of them,
// `bun run bench list counter` only those named.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const repoRoot = join(import.meta.dir, "../..");
const docPath = join(repoRoot, "docs/benchmarks.md");
const suffix = ".bench.ts";

const docIntro = `# Benchmarks

Figures measured by \`bun run bench\` (all) or \`bun run bench <name>\` (one), which rewrites the
section of each benchmark it runs. Each section compares against a baseline measured in the same
run on the same machine: compare ratios across machines, not absolute times.
`;

function markers(name: string): [string, string] {
  return [`<!-- bench:${name} -->`, `<!-- /bench:${name} -->`];
}

/** Replaces or appends the section of benchmark `name` in the document text. */
export function storeSection(document: string, name: string, section: string): string {
  const [open, close] = markers(name);
  const block = `${open}\n${section.trim()}\n${close}`;
  const start = document.indexOf(open);
  const end = document.indexOf(close);
  if (start !== -1 && end > start) {
    return document.slice(0, start) + block + document.slice(end + close.length);
  }
  return `${document.trimEnd()}\n\n${block}\n`;
}

function readDocument(): string {
  try {
    return readFileSync(docPath, "utf8");
  } catch {
    return docIntro;
  }
}

async function main(requested: string[]): Promise<number> {
  process.chdir(repoRoot); // compile() and the benchmarks name files from the repository root
  const available = readdirSync(import.meta.dir)
    .filter((file) => file.endsWith(suffix))
    .map((file) => file.slice(0, -suffix.length))
    .sort();
  const unknown = requested.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark ${unknown.join(", ")} (have: ${available.join(", ")})\n`,
    );
    return 2;
  }
  const selected = requested.length > 0 ? requested : available;
  let failed = 0;
  for (const name of selected) {
    process.stderr.write(`bench ${name}: running\n`);
    const started = performance.now();
    try {
      const module = (await import(join(import.meta.dir, `${name}${suffix}`))) as {
        default: () => Promise<string>;
      };
      const section = await module.default();
      process.stdout.write(`${section.trim()}\n\n`);
      // Re-read before each write: another benchmark of this run may have stored its section.
      writeFileSync(docPath, storeSection(readDocument(), name, section));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stderr.write(`bench ${name}: done in ${seconds} s\n`);
    } catch (error) {
      failed++;
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`bench ${name}: failed: ${message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
