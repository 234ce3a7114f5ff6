// http-poll -> http through `dstream run` with protocol v2 state: kill -9 in the middle and a
// restart miss nothing; a clean stop and a restart send every record exactly once; a later run of
// an unchanged API sends nothing (the cursor_field boundary is remembered).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseEnv, dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { serve } from "./http-helpers.ts";

const RECORDS = 240;
/** Four records share each updated_at, so restarts land on cursor boundaries. */
const changes = Array.from({ length: RECORDS }, (_, index) => ({
  id: index + 1,
  updated_at: `2026-03-01T00:${String(Math.floor(index / 4)).padStart(2, "0")}:00Z`,
}));

let api: ReturnType<typeof serve>;
let sink: ReturnType<typeof serve>;
let received: number[] = [];
const folders: string[] = [];

beforeAll(() => {
  api = serve(async (request) => {
    const url = new URL(request.url);
    const since = url.searchParams.get("updated_at");
    const page = Number(url.searchParams.get("page") ?? 1);
    const rows = changes.filter((row) => since === null || row.updated_at >= since);
    await Bun.sleep(25);
    return Response.json({ items: rows.slice((page - 1) * 10, page * 10) });
  });
  sink = serve(async (request) => {
    for (const line of (await request.text()).split("\n")) {
      if (line !== "") received.push(JSON.parse(line).data.id);
    }
    return new Response(null, { status: 204 });
  });
});

afterAll(() => {
  api?.stop(true);
  sink?.stop(true);
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function taskFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "dstream-http-resume-"));
  folders.push(folder);
  writeFileSync(
    join(folder, "dstream.hcl"),
    `task "changes" {
  input {
    provider = "http-poll"
    config {
      endpoint      = "http://127.0.0.1:${api.port}/changes"
      records       = "items"
      page_param    = "page"
      cursor_field  = "updated_at"
      poll_interval = 0
    }
  }
  output {
    provider = "http"
    config {
      url   = "http://127.0.0.1:${sink.port}/in"
      batch = 7
    }
  }
}
`,
  );
  return folder;
}

/** Starts `dstream run`, waits until the sink has `events`, then sends `signal`. */
async function runUntil(folder: string, events: number, signal: "SIGKILL" | "SIGTERM") {
  const child = Bun.spawn(
    [await dstreamBinary(), "run", "changes", "-c", join(folder, "dstream.hcl"), "--quiet"],
    {
      env: baseEnv(),
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const deadline = Date.now() + 20_000;
  while (received.length < events && Date.now() < deadline) await Bun.sleep(5);
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  clearTimeout(timer);
  return { exitCode, stderr };
}

async function runToEnd(folder: string) {
  return runDstream(["run", "changes", "-c", join(folder, "dstream.hcl"), "--quiet"], {
    timeoutMs: 30_000,
  });
}

const all = changes.map((row) => row.id);

test("kill -9 in the middle, then a restart: every record arrives (at least once)", async () => {
  received = [];
  const folder = taskFolder();
  const killed = await runUntil(folder, 60, "SIGKILL");
  expect(killed.exitCode).not.toBe(0);
  const beforeRestart = received.length;
  expect(beforeRestart).toBeLessThan(RECORDS);
  await Bun.sleep(500); // the watchdog ends the orphaned providers
  const second = await runToEnd(folder);
  expect(second.stderr).not.toContain("error");
  expect(second.exitCode).toBe(0);
  expect([...new Set(received)].sort((a, b) => a - b)).toEqual(all);
  // Only what followed the last committed checkpoint came again, not the whole list.
  expect(received.length).toBeLessThan(RECORDS + beforeRestart);
  // The API has nothing newer: a third run sends nothing, the boundary records included.
  const count = received.length;
  const third = await runToEnd(folder);
  expect(third.exitCode).toBe(0);
  expect(received.length).toBe(count);
}, 90_000);

test("a clean stop in the middle, then a restart: every record exactly once", async () => {
  received = [];
  const folder = taskFolder();
  const stopped = await runUntil(folder, 60, "SIGTERM");
  expect(stopped.stderr).not.toContain("error");
  expect(stopped.exitCode).toBe(0);
  expect(received.length).toBeLessThan(RECORDS);
  const second = await runToEnd(folder);
  expect(second.exitCode).toBe(0);
  expect(received).toEqual(all);
}, 90_000);
