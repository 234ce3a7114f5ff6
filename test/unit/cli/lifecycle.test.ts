// dstream init|plan|status|destroy <task>: like run, only the task named needs its env vars.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDstreamSource as dstream } from "../../helpers/binary.ts";
import { twoTasks } from "./two-tasks.ts";

const folder = mkdtempSync(join(tmpdir(), "dstream-lifecycle-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
writeFileSync(join(folder, "dstream.hcl"), twoTasks);

describe("lifecycle commands", () => {
  test.each([["init"], ["plan"], ["status"], ["destroy"]])(
    "%s of a task without the env vars of the others",
    async (command) => {
      expect(await dstream([command, "local"], { cwd: folder })).toEqual({
        exitCode: 0,
        stdout: "output (console): Success - nothing to do\n",
        stderr: "",
        timedOut: false,
      });
    },
  );

  test("the task named still needs its own", async () => {
    const result = await dstream(["status", "remote"], { cwd: folder });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      'error: dstream.hcl:19:5: task "remote" › input › provider_ref: environment variable TAG is not set (use {{ env "TAG" | default "..." }} to make it optional)',
    );
  });
});
