// A command ends as soon as it has answered: the HCL parser's Go runtime schedules timers of its
// own (its GC) that once kept every uncached load of a large file alive for about a second more.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { manyTasks } from "../unit/config/growth.ts";
import { createWorkspace, type Workspace } from "./helpers.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
  workspace.write("large.hcl", manyTasks(2_000));
});
afterAll(() => workspace.remove());

test("validate of 2,000 tasks, uncached, exits right after its answer", async () => {
  for (let attempt = 0; attempt < 3; attempt++) {
    const child = Bun.spawn([workspace.binary, "validate", "-c", "large.hcl"], {
      cwd: workspace.folder,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DSTREAM_NO_PARSE_CACHE: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    // The answer's arrival, not the end of stdout (which closes only when the process ends).
    const reader = child.stdout.getReader();
    const first = await reader.read();
    const answered = performance.now();
    const answer = new TextDecoder().decode(first.value);
    reader.releaseLock();
    expect(await child.exited).toBe(0);
    const lingered = performance.now() - answered;
    expect(answer).toBe("large.hcl: 2000 tasks valid\n");
    // A process that ends at once takes a few milliseconds here; the Go timers held it 1 s.
    expect(lingered).toBeLessThan(500);
  }
}, 60_000);
