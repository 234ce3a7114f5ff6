// dstream state show <task>: the committed checkpoint as JSON (null when none).
import { defineCommand } from "citty";
import { showState } from "../../../state/index.ts";
import { configArgs, globalArgs } from "../../args.ts";
import { withHelp } from "../../help.ts";
import { stateOfTask, taskArg } from "./task-state.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream state show",
      description: "Print a task's committed checkpoint as JSON: when, and by which run",
    },
    args: { ...taskArg, ...configArgs, ...globalArgs },
    async run({ args }) {
      const view = await showState(await stateOfTask(args.config, args.task), args.task);
      process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    },
  }),
  { examples: ["dstream state show orders-cdc", "dstream state show orders-cdc | jq .checkpoint"] },
);
