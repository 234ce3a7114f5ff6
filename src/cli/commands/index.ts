// The command table: each command is a module loaded only when it runs.
import type { AnyCommand } from "../help.ts";

export type CommandLoader = () => Promise<{ default: AnyCommand }>;

export const commands: Record<string, CommandLoader> = {
  run: () => import("./run.ts"),
  list: () => import("./list.ts"),
  validate: () => import("./validate.ts"),
  init: () => import("./init.ts"),
  plan: () => import("./plan.ts"),
  status: () => import("./status.ts"),
  destroy: () => import("./destroy.ts"),
  version: () => import("./version.ts"),
  providers: () => import("./providers.ts"),
  state: () => import("./state.ts"),
  __provider: () => import("./provider.ts"),
};

/** Commands that `dstream --help` does not list. */
export const hiddenCommands = new Set<string>(["__provider"]);
