// dstream state set <task> <json>: set the checkpoint the next run resumes after.
import { defineCommand } from "citty";
import { setState } from "../../../state/index.ts";
import { configArgs, globalArgs } from "../../args.ts";
import { withHelp } from "../../help.ts";
import { logger } from "../../logger.ts";
import { stateOfTask, taskArg } from "./task-state.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream state set",
      description:
        "Set a task's checkpoint (JSON, in its input's own form): the next run resumes after it",
    },
    args: {
      ...taskArg,
      checkpoint: {
        type: "positional",
        description: "The checkpoint as JSON, e.g. what `dstream state show` printed",
        required: true,
      },
      ...configArgs,
      ...globalArgs,
    },
    async run({ args }) {
      await setState(await stateOfTask(args.config, args.task), args.task, args.checkpoint);
      logger.info(`task "${args.task}": checkpoint set; the next run resumes after it`);
    },
  }),
  {
    examples: [
      `dstream state set orders-cdc '{"lsn":"0/16B3748"}'`,
      `dstream state set counter '{"value":100}'`,
    ],
  },
);
