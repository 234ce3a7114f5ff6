// The runtime's public face: run a task, run lifecycle commands.
export {
  type LifecycleAnswer,
  type LifecycleTarget,
  lifecycleFailure,
  runLifecycleCommand,
} from "./lifecycle.ts";
export { builtinConfigProblemsOf, lockFilePathFor } from "./provider-command.ts";
export { type RunResult, type RunTaskOptions, runTask } from "./run-task.ts";
