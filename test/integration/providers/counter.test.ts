// counter built-in as a real process: exact lines, timing between messages, SIGTERM, backpressure.
import { describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchers, ready, residentBytes, runToEnd, startProvider } from "./helpers.ts";

const isoTime = /"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/g;

function counterLine(value: number): string {
  return `{"data":{"value":${value},"timestamp":"T"},"metadata":{"provider":"counter","sequence":${value}}}\n`;
}

describe.each(launchers)("counter ($label)", (launcher) => {
  test("emits maxCount envelopes numbered from 1, then exits 0", async () => {
    const result = await runToEnd(await launcher.command("counter"), {
      role: "input",
      config: { interval: 0, maxCount: 3 },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.replace(isoTime, '"timestamp":"T"')).toBe(
      ready + counterLine(1) + counterLine(2) + counterLine(3),
    );
    expect(result.stderr).toBe("");
  });

  test("waits interval ms between messages", async () => {
    const result = await runToEnd(await launcher.command("counter"), {
      role: "input",
      config: { interval: 150, maxCount: 3 },
    });
    const times = result.stdout
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => Date.parse(JSON.parse(line).data.timestamp));
    expect(times).toHaveLength(3);
    for (let index = 1; index < times.length; index++) {
      expect((times[index] ?? 0) - (times[index - 1] ?? 0)).toBeGreaterThanOrEqual(140);
    }
  });

  test("runs forever with maxCount 0 and stops cleanly on SIGTERM", async () => {
    const counter = startProvider(await launcher.command("counter"), {
      role: "input",
      config: { interval: 20 },
    });
    await counter.waitForLines(4);
    counter.child.kill("SIGTERM");
    const result = await counter.finish(5000);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines.pop()).toBe("");
    lines.slice(1).forEach((line, index) => {
      expect(line.replace(isoTime, '"timestamp":"T"')).toBe(counterLine(index + 1).trimEnd());
    });
  });

  test("with interval 0, SIGTERM still ends it on a whole line", async () => {
    const counter = startProvider(await launcher.command("counter"), {
      role: "input",
      config: { interval: 0 },
    });
    await counter.waitForLines(1000);
    counter.child.kill("SIGTERM");
    const result = await counter.finish(5000);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.endsWith("\n")).toBe(true);
    const last = result.stdout.trimEnd().split("\n").at(-1) ?? "";
    expect(JSON.parse(last).metadata.provider).toBe("counter");
  });

  test("blocks on a pipe nobody reads instead of buffering: memory stays flat", async () => {
    const folder = mkdtempSync(join(tmpdir(), "dstream-counter-"));
    const fifo = join(folder, "stdout");
    Bun.spawnSync(["mkfifo", fifo]);
    // Opened read-write so the open does not wait for a reader; nothing ever reads it.
    const fd = openSync(fifo, "r+");
    const counter = startProvider(await launcher.command("counter"), {
      role: "input",
      config: { interval: 0 },
      stdoutFd: fd,
    });
    try {
      await Bun.sleep(1000);
      const early = await residentBytes(counter.child.pid);
      await Bun.sleep(1500);
      const late = await residentBytes(counter.child.pid);
      // Buffering what the pipe refuses would grow by hundreds of MB per second.
      expect(late - early).toBeLessThan(8 * 1024 * 1024);
      // Stopped while blocked, it flushes what it holds once a reader drains the pipe.
      counter.child.kill("SIGTERM");
      const reader = Bun.spawn(["cat", fifo], { stdout: "pipe" });
      const drained = new Response(reader.stdout).text();
      expect((await counter.finish(5000)).exitCode).toBe(0);
      closeSync(fd);
      const text = await drained;
      expect(text.endsWith("\n")).toBe(true);
      expect(JSON.parse(text.trimEnd().split("\n").at(-1) ?? "").metadata.provider).toBe("counter");
    } finally {
      counter.child.kill("SIGKILL");
      try {
        closeSync(fd);
      } catch {}
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("gives up 5 s after SIGTERM when stdout is never read: exit 1, a message", async () => {
    const folder = mkdtempSync(join(tmpdir(), "dstream-counter-"));
    const fifo = join(folder, "stdout");
    Bun.spawnSync(["mkfifo", fifo]);
    const fd = openSync(fifo, "r+");
    const counter = startProvider(await launcher.command("counter"), {
      role: "input",
      config: { interval: 0 },
      stdoutFd: fd,
    });
    try {
      await Bun.sleep(300);
      counter.child.kill("SIGTERM");
      const result = await counter.finish(10_000);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(
        "error: did not finish within 5000 ms of the stop signal (is stdout being read?)\n",
      );
    } finally {
      counter.child.kill("SIGKILL");
      closeSync(fd);
      rmSync(folder, { recursive: true, force: true });
    }
  }, 20_000);

  test("keeps memory flat while the reader keeps up (no per-event leak)", async () => {
    const devNull = openSync("/dev/null", "w");
    const counter = startProvider(await launcher.command("counter"), {
      role: "input",
      config: { interval: 0 },
      stdoutFd: devNull,
    });
    try {
      // Samples every 400 ms after a warm-up; medians of the first and last three, so one sample
      // taken before a late GC (a loaded machine) does not decide. A leak of even 64 B per event
      // grows by far more than the bound at the hundreds of thousands of events a second it emits.
      await Bun.sleep(1000);
      const samples: number[] = [];
      for (let index = 0; index < 9; index++) {
        samples.push(await residentBytes(counter.child.pid));
        await Bun.sleep(400);
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[1] ?? 0;
      const growth = median(samples.slice(-3)) - median(samples.slice(0, 3));
      // The samples are shown when it fails.
      expect({ grewPast32MiB: growth >= 32 * 1024 * 1024, samples }).toEqual({
        grewPast32MiB: false,
        samples,
      });
    } finally {
      counter.child.kill("SIGKILL");
      closeSync(devNull);
    }
  }, 20_000);

  test.each([
    [{ interval: "fast" }, "interval: must be a number"],
    [{ interval: -5 }, "interval: must be 0 or more"],
    [{ maxCount: 1.5 }, "maxCount: must be a whole number"],
    [{ intervall: 10 }, "intervall: unknown setting (allowed: interval, maxCount)"],
  ])("config %j is refused: %s", async (config, message) => {
    const result = await runToEnd(await launcher.command("counter"), { role: "input", config });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(`${JSON.stringify({ status: "error", message })}\n`);
    expect(result.stderr).toBe(`error: invalid config: ${message}\n`);
  });

  test("lifecycle commands answer Success with nothing to do", async () => {
    for (const command of ["init", "plan", "status", "destroy"]) {
      const result = await runToEnd(await launcher.command("counter"), { role: "input", command });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('{"status":"Success","message":"nothing to do","resources":[]}\n');
    }
  });
});
