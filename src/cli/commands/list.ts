// dstream list: the tasks of the config file, one per line, with their providers.
import { defineCommand } from "citty";
import { listTasks } from "../../config/index.ts";
import { configArgs, globalArgs, jsonArgs } from "../args.ts";
import { withHelp } from "../help.ts";
import { logger } from "../logger.ts";

export default withHelp(
  defineCommand({
    meta: { name: "dstream list", description: "List the tasks in the config file" },
    args: { ...configArgs, ...jsonArgs, ...globalArgs },
    async run({ args }) {
      // Listing needs no secrets: an unset env var leaves its template as written.
      const { location, tasks } = await listTasks({ flag: args.config });
      logger.debug(`read ${location.path}: ${tasks.length} tasks`);
      if (args.json) {
        process.stdout.write(`${JSON.stringify(tasks)}\n`);
        return;
      }
      const nameWidth = Math.max(...tasks.map((task) => task.name.length));
      const inputWidth = Math.max(...tasks.map((task) => task.input.provider.length));
      const lines = tasks.map(
        ({ name, input, output }) =>
          `${name.padEnd(nameWidth)}  ${input.provider.padEnd(inputWidth)}  ->  ${output.provider}`,
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
