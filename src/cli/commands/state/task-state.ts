// The task a `dstream state` command names, checked against the config (no env var needed).
import { listTasks } from "../../../config/index.ts";
import { DstreamError } from "../../../errors.ts";
import type { StateLocation } from "../../../state/index.ts";

export const taskArg = {
  task: { type: "positional", description: "Task name from the config file", required: true },
} as const;

export async function stateOfTask(flag: string | undefined, task: string): Promise<StateLocation> {
  const { location, tasks, state } = await listTasks({ flag });
  if (!tasks.some((candidate) => candidate.name === task)) {
    const names = tasks.map((candidate) => candidate.name).join(", ");
    throw new DstreamError(
      "TASK_NOT_FOUND",
      `task "${task}" not found in ${location.display} (tasks: ${names})`,
    );
  }
  return state;
}
