// dstream init|plan|status|destroy through the compiled binary: the envelope a provider receives,
// which provider gets it, the printed result, --json, and every way a provider can fail.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, type Workspace } from "./helpers.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

/** A provider that records its envelope and role, then answers as told by its config. */
function provider(name: string, answer: string, exitCode = 0): void {
  const path = workspace.write(
    name,
    `#!/bin/sh\nread -r envelope\necho "$DSTREAM_ROLE $envelope" >> "${join(workspace.folder, "received.log")}"\n${answer}\nexit ${exitCode}\n`,
  );
  chmodSync(path, 0o755);
}

function task(file: string, input: string, output: string): void {
  workspace.write(
    file,
    `task "t" {\n  input {\n    provider_path = "./${input}"\n    config { table = "orders" }\n  }\n  output {\n    provider_path = "./${output}"\n  }\n}\n`,
  );
}

const success = (message: string) =>
  `echo '{"status":"Success","message":"${message}","resources":["topic/orders"]}'`;

describe("lifecycle commands", () => {
  test.each(["init", "plan", "status", "destroy"])(
    "%s goes to the output provider by default",
    async (command) => {
      provider("ok-in.sh", success("input ready"));
      provider("ok-out.sh", success("output ready"));
      task("ok.hcl", "ok-in.sh", "ok-out.sh");
      workspace.write("received.log", "");
      const result = await workspace.run([command, "t", "-c", "ok.hcl"]);
      expect(result).toMatchObject({
        exitCode: 0,
        stdout: "output (./ok-out.sh): Success - output ready\n  topic/orders\n",
      });
      expect(readFileSync(join(workspace.folder, "received.log"), "utf8")).toBe(
        `output {"command":"${command}","config":{},"protocol":2,"checkpoint":null}\n`,
      );
    },
  );

  test("--provider both asks the input first, then the output; --json prints the results", async () => {
    provider("ok-in.sh", success("input ready"));
    provider("ok-out.sh", success("output ready"));
    task("ok.hcl", "ok-in.sh", "ok-out.sh");
    workspace.write("received.log", "");
    const result = await workspace.run([
      "plan",
      "t",
      "-c",
      "ok.hcl",
      "--provider",
      "both",
      "--json",
    ]);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        role: "input",
        label: "./ok-in.sh",
        ok: true,
        result: { status: "Success", message: "input ready", resources: ["topic/orders"] },
      },
      {
        role: "output",
        label: "./ok-out.sh",
        ok: true,
        result: { status: "Success", message: "output ready", resources: ["topic/orders"] },
      },
    ]);
    expect(readFileSync(join(workspace.folder, "received.log"), "utf8")).toBe(
      'input {"command":"plan","config":{"table":"orders"},"protocol":2,"checkpoint":null}\noutput {"command":"plan","config":{},"protocol":2,"checkpoint":null}\n',
    );
  });

  const failures: [string, string, number, string][] = [
    [
      "a Failed result",
      `echo '{"status":"Failed","message":"no permission to create topics"}'`,
      0,
      'error: task "t": init failed for the output provider ./bad-out.sh: reported Failed: no permission to create topics',
    ],
    [
      "a Failed result, then a non-zero exit (as SDK providers do)",
      `echo '{"status":"Failed","message":"nats: authentication failed at nats://h:4222"}'`,
      1,
      'error: task "t": init failed for the output provider ./bad-out.sh: reported Failed: nats: authentication failed at nats://h:4222',
    ],
    [
      "a non-zero exit",
      success("fine"),
      3,
      'error: task "t": init failed for the output provider ./bad-out.sh: exited with code 3',
    ],
    [
      "a Success line, then killed",
      `${success("fine")}\nkill -9 $$`,
      0,
      'error: task "t": init failed for the output provider ./bad-out.sh: was killed by SIGKILL',
    ],
    [
      "no result line",
      "echo 'hello'",
      0,
      'error: task "t": init failed for the output provider ./bad-out.sh: printed no {"status":"Success|Failed"} result line for init',
    ],
  ];
  test.each(failures)(
    "%s: exit 1 with one line naming the provider",
    async (_name, answer, code, message) => {
      provider("bad-out.sh", answer, code);
      provider("ok-in.sh", success("input ready"));
      task("bad.hcl", "ok-in.sh", "bad-out.sh");
      const result = await workspace.run(["init", "t", "-c", "bad.hcl"]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(`${message}\n`);
      // Whatever the provider printed, a failed outcome never shows as Success.
      expect(result.stdout).toStartWith("output (./bad-out.sh): Failed - ");
    },
  );

  test("a provider printing without end is cut off at 16 MiB: exit 1, memory bounded", async () => {
    provider("loud-out.sh", "yes 'not a result'");
    provider("ok-in.sh", success("input ready"));
    task("loud.hcl", "ok-in.sh", "loud-out.sh");
    const result = await workspace.run(["plan", "t", "-c", "loud.hcl"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: task "t": plan failed for the output provider ./loud-out.sh: printed more than 16 MiB instead of one result line\n',
    );
  });

  test("a provider that does not answer within --timeout is killed: exit 1", async () => {
    provider("slow-out.sh", "sleep 30");
    provider("ok-in.sh", success("input ready"));
    task("slow.hcl", "ok-in.sh", "slow-out.sh");
    const started = performance.now();
    const result = await workspace.run(["status", "t", "-c", "slow.hcl", "--timeout", "500ms"]);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: task "t": status failed for the output provider ./slow-out.sh: did not answer status within 0.5 s\n',
    );
  });

  test("built-in providers answer with the SDK's default", async () => {
    const result = await workspace.run(
      ["status", "my-pipeline", "-c", "quick.hcl", "--provider", "both"],
      {
        cwd: workspace.folder,
      },
    );
    expect(result).toMatchObject({
      exitCode: 0,
      stdout:
        "input (counter): Success - nothing to do\noutput (console): Success - nothing to do\n",
    });
  });
});

beforeAll(() => {
  workspace.write(
    "quick.hcl",
    'task "my-pipeline" {\n  input {\n    provider = "counter"\n  }\n  output {\n    provider = "console"\n  }\n}\n',
  );
});
