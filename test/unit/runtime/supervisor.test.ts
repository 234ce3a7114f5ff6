// Supervision as `run` and the lifecycle commands share it: stop signals, bounds, the wait after a kill.
import { afterEach, describe, expect, test } from "bun:test";
import { StopSignals, type Supervisable, supervise } from "../../../src/runtime/supervisor.ts";

/** A supervised part that records what it was told and ends when its test says so. */
function fakePart(endsOnKill = true) {
  const told: string[] = [];
  let end: (value: string) => void = () => {};
  const result = new Promise<string>((resolve) => {
    end = resolve;
  });
  const part: Supervisable<string> = {
    result,
    stop: () => told.push("stop"),
    kill: () => {
      told.push("kill");
      if (endsOnKill) end("killed");
    },
  };
  return { part, told, end };
}

let signals: StopSignals | undefined;
afterEach(() => signals?.dispose());

describe("supervise", () => {
  test("a part that ends on its own: its result, no stop, no kill", async () => {
    signals = new StopSignals();
    const { part, told, end } = fakePart();
    const supervised = supervise(part, signals, { deadlineMs: 60_000 });
    end("done");
    expect(await supervised).toEqual({ result: "done", timedOut: false });
    expect(told).toEqual([]);
  });

  test("the first stop signal stops the part, a second kills it", async () => {
    signals = new StopSignals();
    const { part, told } = fakePart();
    const heard: string[] = [];
    const supervised = supervise(part, signals, { onStopRequested: (name) => heard.push(name) });
    process.emit("SIGINT", "SIGINT");
    expect(told).toEqual(["stop"]);
    process.emit("SIGTERM", "SIGTERM");
    expect(await supervised).toEqual({ result: "killed", timedOut: false });
    expect(told).toEqual(["stop", "kill"]);
    expect(heard).toEqual(["SIGINT"]);
    expect([signals.stoppedBy, signals.forcedBy]).toEqual(["SIGINT", "SIGTERM"]);
  });

  test("a deadline that runs out kills the part: timed out", async () => {
    signals = new StopSignals();
    const { part, told } = fakePart();
    expect(await supervise(part, signals, { deadlineMs: 1 })).toEqual({
      result: "killed",
      timedOut: true,
    });
    expect(told).toEqual(["kill"]);
  });

  test("the stop timeout runs from the first signal, then kills", async () => {
    signals = new StopSignals();
    const { part, told } = fakePart();
    const supervised = supervise(part, signals, { stopTimeoutMs: 1 });
    process.emit("SIGHUP", "SIGHUP");
    expect(await supervised).toEqual({ result: "killed", timedOut: true });
    expect(told).toEqual(["stop", "kill"]);
  });

  test("a signal that came before the part was supervised reaches it at once", async () => {
    signals = new StopSignals();
    process.emit("SIGTERM", "SIGTERM");
    const { part, told, end } = fakePart();
    const supervised = supervise(part, signals);
    expect(told).toEqual(["stop"]);
    end("stopped");
    expect((await supervised).result).toBe("stopped");
  });

  test("a killed part that never ends is given up after the grace: no result", async () => {
    signals = new StopSignals();
    const { part, told } = fakePart(false);
    expect(await supervise(part, signals, { deadlineMs: 1 })).toEqual({
      result: undefined,
      timedOut: true,
    });
    expect(told).toEqual(["kill"]);
  }, 10_000);

  test("dispose takes its handlers off every stop signal", () => {
    const before = ["SIGINT", "SIGTERM", "SIGHUP"].map((name) => process.listenerCount(name));
    const disposed = new StopSignals();
    disposed.dispose();
    expect(["SIGINT", "SIGTERM", "SIGHUP"].map((name) => process.listenerCount(name))).toEqual(
      before,
    );
  });
});
