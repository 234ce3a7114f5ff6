// The fixture providers wired into one-task pipelines for fault tests: each run in its own folder
// of a shared workspace, on a chosen relay, started in the background with a time bound.
import { writeFileSync } from "node:fs";
import type { Workspace } from "../e2e/helpers.ts";
import {
  fixture,
  type ProviderBlock,
  type RunFolder,
  runFolder,
  startRun,
  taskHcl,
} from "./harness.ts";

export const numberedInput = fixture("numbered-input.py");
export const recordingOutput = fixture("recording-output.py");
export const deafProvider = fixture("deaf-provider.sh");

export type OutputBlock = ProviderBlock | ((run: RunFolder) => ProviderBlock);

/** The recording output, writing to the run's record file. */
export function recorder(config: ProviderBlock["config"] = {}): OutputBlock {
  return (run) => ({ path: recordingOutput, config: { recordFile: run.record, ...config } });
}

/** Pipelines on one relay; `workspace` is read when a test runs (it is made in beforeAll). */
export function faultPipelines(
  workspace: () => Workspace,
  relay: string,
  relayEnv: Record<string, string>,
) {
  return {
    pipeline(name: string, input: ProviderBlock, output: OutputBlock): RunFolder {
      const run = runFolder(workspace(), `${relay}-${name}`, relayEnv);
      const outputBlock = typeof output === "function" ? output(run) : output;
      writeFileSync(run.config, taskHcl(input, outputBlock));
      return run;
    },
    /** Starts `dstream run t --quiet` for the run, with extra flags. */
    start(run: RunFolder, flags: string[] = [], timeoutMs = 20_000) {
      return startRun(workspace(), ["run", "t", "-c", run.config, "--quiet", ...flags], {
        env: run.env,
        timeoutMs,
      });
    },
  };
}
