// dstream list: the tasks of the config file, one per line, with their providers.
import { defineCommand } from "citty";
import { describeSource, loadConfig } from "../../config/index.ts";
import { configArgs, globalArgs, jsonArgs } from "../args.ts";
import { withHelp } from "../help.ts";
import { logger } from "../logger.ts";

export default withHelp(
  defineCommand({
    meta: { name: "dstream list", description: "List the tasks in the config file" },
    args: { ...configArgs, ...jsonArgs, ...globalArgs },
    async run({ args }) {
      // Listing needs no secrets: an unset env var leaves its template as written.
      const config = await loadConfig({ flag: args.config, requireEnv: false });
      logger.debug(`read ${config.location.path}: ${config.tasks.length} tasks`);
      if (args.json) {
        const tasks = config.tasks.map((task) => ({
          name: task.name,
          type: task.type,
          input: { kind: task.input.source.kind, provider: describeSource(task.input.source) },
          output: { kind: task.output.source.kind, provider: describeSource(task.output.source) },
        }));
        process.stdout.write(`${JSON.stringify(tasks)}\n`);
        return;
      }
      const rows = config.tasks.map((task) => [
        task.name,
        describeSource(task.input.source),
        describeSource(task.output.source),
      ]);
      const nameWidth = Math.max(...rows.map((row) => row[0]?.length ?? 0));
      const inputWidth = Math.max(...rows.map((row) => row[1]?.length ?? 0));
      const lines = rows.map(
        ([name, input, output]) =>
          `${(name ?? "").padEnd(nameWidth)}  ${(input ?? "").padEnd(inputWidth)}  ->  ${output}`,
      );
      process.stdout.write(`${lines.join("\n")}\n`);
    },
  }),
  {
    examples: [
      "dstream list",
      "dstream list -c pipelines/prod.hcl",
      "dstream list --json | jq -r '.[].name'",
    ],
  },
);
