// Stop signals during a lifecycle command (init, plan, status, destroy): the provider is stopped
// in order, a second signal forces it, and no provider outlives dstream, not even its SIGKILL.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, type Workspace } from "../e2e/helpers.ts";
import { runFolder, sleep, startRun, survivors, waitForFile } from "./harness.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

/** A provider that never answers; `ignoreTerm` makes it (and its sleep) deaf to SIGTERM. */
function slowProvider(folder: string, name: string, ignoreTerm: boolean): string {
  const path = join(folder, name);
  const trap = ignoreTerm ? "trap '' TERM\n" : "";
  writeFileSync(
    path,
    `#!/bin/sh\necho $$ > "$FAULT_PID_DIR/$DSTREAM_ROLE.pid"\nread -r envelope\n${trap}sleep 30\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

function lifecycleRun(name: string, ignoreTerm = false) {
  const run = runFolder(workspace, name);
  const input = slowProvider(run.folder, "in.sh", ignoreTerm);
  const output = slowProvider(run.folder, "out.sh", ignoreTerm);
  writeFileSync(
    run.config,
    `task "t" {\n  input {\n    provider_path = "${input}"\n  }\n  output {\n    provider_path = "${output}"\n  }\n}\n`,
  );
  return run;
}

describe("stop signals during a lifecycle command", () => {
  test("SIGINT stops the provider with SIGTERM: exit 1, one line, no survivor", async () => {
    const run = lifecycleRun("init-sigint");
    const started = startRun(workspace, ["init", "t", "-c", run.config], { env: run.env });
    await waitForFile(`${run.folder}/output.pid`);
    await sleep(200);
    started.signal("SIGINT");
    const result = await started.finished;
    expect(result).toMatchObject({
      exitCode: 1,
      stderr: `error: task "t": init failed for the output provider ${run.folder}/out.sh: was killed by SIGTERM after dstream was stopped by SIGINT\n`,
    });
    expect(await survivors(run)).toEqual([]);
  }, 30_000);

  test("with --provider both, a SIGTERM during the input's answer: the output is not asked", async () => {
    const run = lifecycleRun("plan-both-sigterm");
    const started = startRun(
      workspace,
      ["plan", "t", "-c", run.config, "--provider", "both", "--json"],
      { env: run.env },
    );
    await waitForFile(`${run.folder}/input.pid`);
    await sleep(200);
    started.signal("SIGTERM");
    const result = await started.finished;
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        role: "input",
        label: `${run.folder}/in.sh`,
        ok: false,
        problem: "was killed by SIGTERM after dstream was stopped by SIGTERM",
      },
      {
        role: "output",
        label: `${run.folder}/out.sh`,
        ok: false,
        problem: "not asked: dstream was stopped by SIGTERM",
      },
    ]);
    expect(await survivors(run)).toEqual([]);
  }, 30_000);

  test("a second signal kills a provider that ignores SIGTERM: exit 130", async () => {
    const run = lifecycleRun("destroy-forced", true);
    const started = startRun(workspace, ["destroy", "t", "-c", run.config], { env: run.env });
    await waitForFile(`${run.folder}/output.pid`);
    await sleep(200);
    started.signal("SIGINT");
    await sleep(300);
    started.signal("SIGINT");
    const result = await started.finished;
    expect(result).toMatchObject({
      exitCode: 130,
      stderr: `error: task "t": destroy forced to stop on a second SIGINT; provider killed\n`,
    });
    expect(await survivors(run)).toEqual([]);
  }, 30_000);

  test("dstream itself killed with SIGKILL: the provider does not survive it", async () => {
    const run = lifecycleRun("status-dstream-killed", true);
    const started = startRun(workspace, ["status", "t", "-c", run.config], { env: run.env });
    await waitForFile(`${run.folder}/output.pid`);
    await sleep(200);
    started.signal("SIGKILL");
    expect((await started.finished).signalCode).toBe("SIGKILL");
    expect(await survivors(run)).toEqual([]);
  }, 30_000);
});
