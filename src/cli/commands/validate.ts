// dstream validate: load and check the config file; exit 0, or 2 with every problem.
import { defineCommand } from "citty";
import { loadConfig } from "../../config/index.ts";
import { DstreamError } from "../../errors.ts";
import { builtinConfigProblemsOf } from "../../runtime/index.ts";
import { configArgs, globalArgs } from "../args.ts";
import { withHelp } from "../help.ts";
import { logger } from "../logger.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream validate",
      description:
        "Check the config file: syntax, schema, templates (env vars must be set), built-in providers' settings",
    },
    args: { ...configArgs, ...globalArgs },
    async run({ args }) {
      const config = await loadConfig({ flag: args.config });
      logger.debug(`read ${config.location.path}: ${config.tasks.length} tasks`);
      // Built-in providers' settings, checked with the schemas they parse their config with.
      const problems = (
        await Promise.all(config.tasks.map((task) => builtinConfigProblemsOf(task)))
      ).flat();
      if (problems.length > 0) {
        throw new DstreamError("CONFIG_INVALID", problems[0] ?? "", { problems });
      }
      const count = config.tasks.length;
      process.stdout.write(
        `${config.location.display}: ${count} task${count === 1 ? "" : "s"} valid\n`,
      );
    },
  }),
  {
    examples: [
      "dstream validate",
      "DATABASE_URL=postgres://localhost/db dstream validate -c dstream.hcl",
    ],
  },
);
