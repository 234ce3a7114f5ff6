// Compiles the example provider into one executable: bun examples/provider-ts/build.ts [outfile]
import { join } from "node:path";

export async function buildWordsProvider(outfile: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "words.ts")],
    compile: { outfile },
    minify: true,
  });
  if (!result.success) {
    for (const log of result.logs) process.stderr.write(`${log}\n`);
    throw new Error("bun build failed for the words provider");
  }
}

if (import.meta.main) {
  const outfile = process.argv[2] ?? join(import.meta.dir, "dist", "words-provider");
  await buildWordsProvider(outfile);
  process.stderr.write(`built ${outfile}\n`);
}
