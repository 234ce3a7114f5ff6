// dstream state: a task's committed checkpoint (show, reset, set).
import { defineCommand } from "citty";
import { withHelp } from "../help.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream state",
      description: "Show, reset or set a task's committed checkpoint (where its next run resumes)",
    },
    subCommands: {
      show: () => import("./state/show.ts").then((module) => module.default),
      reset: () => import("./state/reset.ts").then((module) => module.default),
      set: () => import("./state/set.ts").then((module) => module.default),
    },
  }),
  {
    examples: [
      "dstream state show orders-cdc",
      "dstream state reset orders-cdc",
      `dstream state set orders-cdc '{"lsn":"0/16B3748"}'`,
    ],
  },
);
