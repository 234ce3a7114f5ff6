// dstream providers: provider artifacts in OCI registries (pull, lock, ls, push, inspect).
import { defineCommand } from "citty";
import { withHelp } from "../help.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream providers",
      description: "Pull, lock, list, push and inspect providers in OCI registries",
    },
    subCommands: {
      pull: () => import("./providers/pull.ts").then((module) => module.default),
      lock: () => import("./providers/lock.ts").then((module) => module.default),
      ls: () => import("./providers/ls.ts").then((module) => module.default),
      push: () => import("./providers/push.ts").then((module) => module.default),
      inspect: () => import("./providers/inspect.ts").then((module) => module.default),
    },
  }),
  {
    examples: [
      "dstream providers pull",
      "dstream providers lock --upgrade",
      "dstream providers ls",
      "dstream providers push ghcr.io/acme/pg-cdc:v1.2.0 --platform linux/amd64=./bin/pg-cdc",
      "dstream providers inspect ghcr.io/acme/pg-cdc:v1.2.0",
    ],
  },
);
