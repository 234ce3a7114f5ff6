// The runtime's public face: run a task, run lifecycle commands.
export { type RunResult, type RunTaskOptions, runTask } from "./run-task.ts";
