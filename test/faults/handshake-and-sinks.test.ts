// Handshake faults and where the data goes: an error handshake from either side, garbage before
// the handshake, a full disk under the file output, dstream's own stdout closed. Each ends with its
// documented exit code, one error line saying why, no provider left behind and no hang.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, type Workspace } from "../e2e/helpers.ts";
import { runProcess } from "../helpers/binary.ts";
import { isAlive, numberedLines, recorded, relays, survivors } from "./harness.ts";
import { faultPipelines, numberedInput, recorder, recordingOutput } from "./pipelines.ts";

/** What an output that died or exited left unread in its stdin, said on raw pipes (Linux). */
const UNREAD = "(?:; the (?:killed )?output had not read [\\d.]+ (?:B|KiB|MiB) of its stdin)?";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe.each(relays)("%s relay", (relay, relayEnv) => {
  const { pipeline, start } = faultPipelines(() => workspace, relay, relayEnv);

  describe("handshake", () => {
    test('an input\'s {"status":"error"}: exit 1 with its message, nothing relayed', async () => {
      const run = pipeline(
        "input-handshake-error",
        { path: numberedInput, config: { handshake: "error", message: "bad credentials" } },
        recorder(),
      );
      const result = await start(run).finished;
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: `error: task "t": input provider ${numberedInput} reported an error: bad credentials (0 lines relayed, 0 in flight)\n`,
      });
      expect(recorded(run)).toBe("");
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("an input that says why and exits at once: its message every time, never only its exit code", async () => {
      // The bash example of docs/provider-authoring.md given a bad count: the error handshake,
      // then exit 1 at once. Its exit can be seen before its first line has been read.
      const script = workspace.write(
        `says-why-${relay.replace(" ", "-")}.sh`,
        '#!/bin/sh\nread -r envelope\necho \'{"status":"error","message":"count: must be a whole number"}\'\nexit 1\n',
      );
      chmodSync(script, 0o755);
      const run = pipeline("says-why", { path: script }, recorder());
      const messages: string[] = [];
      for (let attempt = 0; attempt < 12; attempt++) {
        const result = await start(run).finished;
        expect(result.exitCode).toBe(1);
        messages.push(result.stderr);
      }
      const expected = `error: task "t": input provider ${script} reported an error: count: must be a whole number (0 lines relayed, 0 in flight)\n`;
      expect(messages).toEqual(Array(12).fill(expected));
      expect(await survivors(run)).toEqual([]);
    }, 60_000);

    test("an output that says why and exits at once while the input sends: its message every time", async () => {
      // The broken pipe to it, and its exit explaining that pipe, can both be judged before its
      // first line has been read: neither may hide its own words.
      const tag = relay.replace(" ", "-");
      const input = workspace.write(
        `sends-200-${tag}.sh`,
        '#!/bin/sh\nread -r envelope\ni=0\nwhile [ $i -lt 200 ]; do echo "{\\"data\\":{\\"n\\":$i}}"; i=$((i+1)); done\n',
      );
      const output = workspace.write(
        `output-says-why-${tag}.sh`,
        '#!/bin/sh\nread -r envelope\necho \'{"status":"error","message":"topic missing"}\'\nexit 1\n',
      );
      chmodSync(input, 0o755);
      chmodSync(output, 0o755);
      const run = pipeline("output-says-why", { path: input }, { path: output });
      const expected = new RegExp(
        `^error: task "t": output provider ${escapeRegExp(output)} reported an error: topic missing \\(\\d+ lines relayed, \\d+ in flight${UNREAD}\\)\\n$`,
      );
      const wrong: string[] = [];
      for (let attempt = 0; attempt < 12; attempt++) {
        const result = await start(run).finished;
        expect(result.exitCode).toBe(1);
        if (!expected.test(result.stderr)) wrong.push(result.stderr);
      }
      expect(wrong).toEqual([]);
      expect(await survivors(run)).toEqual([]);
    }, 90_000);

    test('an output\'s {"status":"error"}: exit 1 with its message, the input is stopped', async () => {
      const run = pipeline(
        "output-handshake-error",
        { path: numberedInput },
        recorder({
          handshake: "error",
          message: "topic orders does not exist",
        }),
      );
      const result = await start(run).finished;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^error: task "t": output provider ${recordingOutput} reported an error: topic orders does not exist \\(\\d+ lines relayed, \\d+ in flight${UNREAD}\\)\\n$`,
        ),
      );
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("an input printing garbage before its handshake: exit 1 quoting the line, nothing relayed", async () => {
      const run = pipeline(
        "garbage",
        { path: numberedInput, config: { handshake: "garbage" } },
        recorder(),
      );
      const result = await start(run).finished;
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: `error: task "t": input provider ${numberedInput} wrote "starting up, please wait" before any data: stdout must hold only the handshake and JSON lines (logs go to stderr) (0 lines relayed, 0 in flight)\n`,
      });
      expect(recorded(run)).toBe("");
      expect(await survivors(run)).toEqual([]);
    }, 30_000);
  });

  describe("where the data goes", () => {
    test("file output on a full disk: exit 1, the error names the file", async () => {
      const disk = join(workspace.folder, `full-disk-${relay.replace(" ", "-")}`);
      mkdirSync(disk);
      // Root in CI: a failing mount is a failing test, never a skipped one.
      const mount = await runProcess(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk]);
      expect(mount).toMatchObject({ exitCode: 0, stderr: "" });
      try {
        const target = join(disk, "out.jsonl");
        const run = pipeline(
          "full-disk",
          { path: numberedInput, config: { count: 100_000 } },
          { builtin: "file", config: { path: target } },
        );
        const result = await start(run).finished;
        expect(result.exitCode).toBe(1);
        const cause = `cannot write "${target}": no space left on device (ENOSPC)`;
        // The cause is on the error line itself (the provider's one stderr line, not repeated).
        expect(result.stderr).toMatch(
          new RegExp(
            `^\\[t/output\\] error: ${escapeRegExp(cause)}\\nerror: task "t": output provider file exited with code 1 while the input was still sending: ${escapeRegExp(cause)} \\(\\d+ lines relayed, \\d+ in flight${UNREAD}\\)\\n$`,
          ),
        );
        expect(await survivors(run)).toEqual([]);
      } finally {
        await runProcess(["umount", disk]);
      }
    }, 30_000);

    test("dstream's own stdout closed (| head -2): exit 1, the cause named, no hang", async () => {
      const run = pipeline(
        "stdout-closed",
        { path: numberedInput },
        { builtin: "console", config: { outputFormat: "json" } },
      );
      const log = join(run.folder, "stderr");
      const pidFile = join(run.folder, "dstream.pid");
      // The subshell records its pid, then becomes dstream: a hung dstream is killed below, not
      // left running when the time bound kills only bash.
      const script =
        '( echo "$BASHPID" >"$3"; exec "$0" run t -c "$1" --quiet 2>"$2" ) | head -2; echo "exit $PIPESTATUS"';
      try {
        const result = await runProcess(
          ["/bin/bash", "-c", script, workspace.binary, run.config, log, pidFile],
          { env: run.env, timeoutMs: 15_000 },
        );
        expect(result).toMatchObject({ stdout: `${numberedLines(2)}exit 1\n`, timedOut: false });
        expect(readFileSync(log, "utf8")).toMatch(
          /^error: task "t": cannot copy the stdout of output provider console to dstream's stdout \(EPIPE: broken pipe, write\) \(\d+ lines relayed, \d+ in flight\)\n$/,
        );
        expect(await survivors(run)).toEqual([]);
      } finally {
        const pid = Number(readFileSync(pidFile, "utf8"));
        if (isAlive(pid)) process.kill(pid, "SIGKILL");
      }
    }, 30_000);
  });
});
