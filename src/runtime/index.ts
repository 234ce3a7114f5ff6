// The runtime's public face: run a task, run lifecycle commands.
export {
  type LifecycleOutcome,
  type LifecycleTarget,
  lifecycleFailure,
  runLifecycle,
} from "./lifecycle.ts";
export { builtinConfigProblemsOf, lockFilePathFor } from "./provider-command.ts";
export { type RunResult, type RunTaskOptions, runTask } from "./run-task.ts";
