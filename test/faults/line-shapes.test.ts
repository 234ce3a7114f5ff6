// Odd line shapes through the whole binary: 1 B to 15 MiB lines, a last line without newline, CRLF
// and empty lines arrive byte for byte as documented (empty lines dropped, a final newline added).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, type Workspace } from "../e2e/helpers.ts";
import { fixture, relays, runFolder, startRun, taskHcl } from "./harness.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

const KiB = 1024;
const MiB = 1024 * KiB;

/** A JSON line of exactly `bytes` bytes (newline not counted): an envelope, or a number if tiny. */
function lineOf(bytes: number, sequence: number): string {
  const head = `{"data":"`;
  const tail = `","metadata":{"sequence":${sequence}}}`;
  if (bytes < head.length + tail.length) return "7".repeat(bytes);
  return head + "a".repeat(bytes - head.length - tail.length) + tail;
}

interface Shape {
  name: string;
  input: string;
  expected: string;
  /** Lines delivered and empty lines dropped, as --stats-json counts them. */
  lines: number;
  emptyLines: number;
  chunkBytes?: number;
}

function sized(name: string, bytes: number, count: number, chunkBytes?: number): Shape {
  const text = Array.from({ length: count }, (_, index) => `${lineOf(bytes, index)}\n`).join("");
  return { name, input: text, expected: text, lines: count, emptyLines: 0, chunkBytes };
}

const shapes: Shape[] = [
  sized("10,000 lines of 1 B", 1, 10_000),
  sized("lines of 64 KiB", 64 * KiB, 20),
  sized("lines of 1 MiB", MiB, 5),
  sized("a line of 15 MiB", 15 * MiB, 1),
  sized("mixed sizes cut into 7-byte chunks", 40, 300, 7),
  {
    name: "a last line without newline gets one",
    input: `${lineOf(60, 1)}\n${lineOf(60, 2)}`,
    expected: `${lineOf(60, 1)}\n${lineOf(60, 2)}\n`,
    lines: 2,
    emptyLines: 0,
  },
  {
    name: "CRLF lines pass through untouched",
    input: `${lineOf(60, 1)}\r\n${lineOf(60, 2)}\r\n`,
    expected: `${lineOf(60, 1)}\r\n${lineOf(60, 2)}\r\n`,
    lines: 2,
    emptyLines: 0,
  },
  {
    name: "empty lines (LF and CRLF) are dropped and counted",
    input: `\n\n${lineOf(60, 1)}\n\n\r\n${lineOf(60, 2)}\n\n`,
    expected: `${lineOf(60, 1)}\n${lineOf(60, 2)}\n`,
    lines: 2,
    emptyLines: 5,
    chunkBytes: 3,
  },
];

describe.each(relays)(
  "line shapes, input -> output byte for byte (%s relay)",
  (relay, relayEnv) => {
    test.each(shapes.map((shape) => [shape.name, shape] as const))(
      "%s",
      async (name, shape) => {
        const run = runFolder(workspace, `${relay}-${name}`, relayEnv);
        const source = join(run.folder, "source");
        writeFileSync(source, shape.input, "latin1");
        writeFileSync(
          run.config,
          taskHcl(
            {
              path: fixture("replay-input.py"),
              config: {
                file: source,
                ...(shape.chunkBytes ? { chunkBytes: shape.chunkBytes } : {}),
              },
            },
            { path: fixture("recording-output.py"), config: { recordFile: run.record } },
          ),
        );
        const stats = join(run.folder, "stats.json");
        const result = await startRun(
          workspace,
          ["run", "t", "-c", run.config, "--quiet", "--stats-json", stats],
          { env: run.env, timeoutMs: 60_000 },
        ).finished;
        expect(result).toMatchObject({ exitCode: 0, stderr: "" });
        const received = readFileSync(run.record);
        expect(received.length).toBe(Buffer.byteLength(shape.expected, "latin1"));
        expect(received.equals(Buffer.from(shape.expected, "latin1"))).toBe(true);
        expect(JSON.parse(readFileSync(stats, "utf8"))).toMatchObject({
          lines: shape.lines,
          bytes: received.length,
          emptyLines: shape.emptyLines,
        });
      },
      90_000,
    );

    test("a 17 MiB line passes the default --max-line-bytes (16 MiB): exit 1 naming it; earlier lines delivered", async () => {
      const run = runFolder(workspace, `${relay}-too-long`, relayEnv);
      const source = join(run.folder, "source");
      writeFileSync(source, `${lineOf(100, 1)}\n${lineOf(17 * MiB, 2)}\n${lineOf(100, 3)}\n`);
      const input = fixture("replay-input.py");
      writeFileSync(
        run.config,
        taskHcl(
          { path: input, config: { file: source } },
          { path: fixture("recording-output.py"), config: { recordFile: run.record } },
        ),
      );
      const result = await startRun(workspace, ["run", "t", "-c", run.config, "--quiet"], {
        env: run.env,
        timeoutMs: 60_000,
      }).finished;
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: `error: task "t": input provider ${input}: line 2 is longer than --max-line-bytes (16777216 bytes) (1 lines relayed, 0 in flight)\n`,
      });
      expect(readFileSync(run.record, "latin1")).toBe(`${lineOf(100, 1)}\n`);
    }, 90_000);
  },
);
