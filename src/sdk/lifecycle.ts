// Lifecycle commands (init, plan, status, destroy): call the author's hook, print one result line.
import type { LifecycleCommand, LifecycleResult } from "../protocol/index.ts";
import type { LifecycleHooks, ProviderContext } from "./types.ts";

export async function runLifecycle<C>(
  command: LifecycleCommand,
  hooks: LifecycleHooks<C>,
  context: ProviderContext<C>,
): Promise<LifecycleResult> {
  const hook = hooks[command];
  if (!hook) return { status: "Success", message: "nothing to do", resources: [] };
  try {
    const outcome = (await hook(context.config, context)) ?? {};
    return {
      status: outcome.status ?? "Success",
      message: outcome.message ?? "",
      resources: outcome.resources ?? [],
    };
  } catch (error) {
    return {
      status: "Failed",
      message: error instanceof Error ? error.message : String(error),
      resources: [],
    };
  }
}
