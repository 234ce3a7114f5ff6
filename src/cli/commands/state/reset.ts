// dstream state reset <task>: forget the checkpoint; the next run starts from the beginning.
import { defineCommand } from "citty";
import { resetState } from "../../../state/index.ts";
import { configArgs, globalArgs } from "../../args.ts";
import { withHelp } from "../../help.ts";
import { logger } from "../../logger.ts";
import { stateOfTask, taskArg } from "./task-state.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream state reset",
      description:
        "Remove a task's checkpoint: its next run starts from the beginning (not while it runs)",
    },
    args: { ...taskArg, ...configArgs, ...globalArgs },
    async run({ args }) {
      const removed = await resetState(await stateOfTask(args.config, args.task), args.task);
      logger.info(
        removed
          ? `task "${args.task}": checkpoint removed; the next run starts from the beginning`
          : `task "${args.task}" had no checkpoint`,
      );
    },
  }),
  { examples: ["dstream state reset orders-cdc"] },
);
