// dstream providers ls: the providers in the local cache (reference, platform, digest, size).
import { defineCommand } from "citty";
import { defaultCacheDir } from "../../../cache-dir.ts";
import { listCachedProviders } from "../../../registry/index.ts";
import { globalArgs, jsonArgs } from "../../args.ts";
import { withHelp } from "../../help.ts";
import { logger } from "../../logger.ts";

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths?.[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream providers ls",
      description:
        "List the cached providers (DSTREAM_CACHE_DIR, else the platform's cache folder)",
    },
    args: { ...jsonArgs, ...globalArgs },
    async run({ args }) {
      const cacheDir = defaultCacheDir(process.env);
      const cached = await listCachedProviders(cacheDir);
      if (args.json) {
        process.stdout.write(`${JSON.stringify(cached)}\n`);
        return;
      }
      if (cached.length === 0) {
        logger.info(`no providers cached in ${cacheDir}`);
        return;
      }
      const rows = [
        ["REFERENCE", "PLATFORM", "DIGEST", "SIZE"],
        ...cached.map((entry) => [
          entry.reference,
          entry.platform,
          entry.digest,
          String(entry.size),
        ]),
      ];
      process.stdout.write(`${table(rows)}\n`);
    },
  }),
  { examples: ["dstream providers ls", "dstream providers ls --json | jq -r '.[].reference'"] },
);
