// dstream run <task>: only the task run needs its env vars; the other tasks are checked for syntax
// and schema only.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDstreamSource as dstream } from "../../helpers/binary.ts";
import { twoTasks } from "./two-tasks.ts";

const folder = mkdtempSync(join(tmpdir(), "dstream-run-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

writeFileSync(join(folder, "dstream.hcl"), twoTasks);

describe("dstream run", () => {
  test("runs a task without the env vars of the others", async () => {
    const result = await dstream(["run", "local", "--quiet"], { cwd: folder });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(2);
  });

  test("the task run still needs its own: every one named, each once", async () => {
    const notSet = (name: string) =>
      `environment variable ${name} is not set (use {{ env "${name}" | default "..." }} to make it optional)`;
    expect(await dstream(["run", "remote"], { cwd: folder })).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: [
        `error: dstream.hcl:19:5: task "remote" › input › provider_ref: ${notSet("TAG")}`,
        'error: dstream.hcl:21:7: task "remote" › input › config › pw: set PW',
        `error: dstream.hcl:25:5: task "remote" › output › provider: ${notSet("OUT")}`,
        "",
      ].join("\n"),
      timedOut: false,
    });
  });

  test("an unknown task names the tasks there are", async () => {
    expect(await dstream(["run", "nope"], { cwd: folder })).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'error: task "nope" not found in dstream.hcl (tasks: local, remote)\n',
      timedOut: false,
    });
  });
});
