// SessionTimers on a fake clock (and once on the real one with tiny waits, no timing asserted):
// named timers fire once, cancel and dispose clear them, and misuse is refused. ProtocolNegotiation
// keeps its waits there too.
import { describe, expect, test } from "bun:test";
import { createCounterBuffer, outputProtocolOf } from "../../../src/relay/index.ts";
import { ProtocolNegotiation } from "../../../src/runtime/protocol-negotiation.ts";
import { type Clock, SessionTimers } from "../../../src/runtime/session-timers.ts";

/** A clock whose timers fire only when the test says. */
function fakeClock() {
  const pending = new Map<object, { action: () => void; ms: number; unref: boolean }>();
  const clock: Clock = {
    setTimeout(action, ms) {
      const timer = {
        unref() {
          const entry = pending.get(timer);
          if (entry) entry.unref = true;
        },
      };
      pending.set(timer, { action, ms, unref: false });
      return timer;
    },
    clearTimeout(timer) {
      pending.delete(timer);
    },
  };
  /** Fires every timer set for `ms`. */
  const fire = (ms: number) => {
    for (const [timer, entry] of [...pending]) {
      if (entry.ms !== ms) continue;
      pending.delete(timer);
      entry.action();
    }
  };
  const waits = () => [...pending.values()].map(({ ms, unref }) => ({ ms, unref }));
  return { clock, fire, waits };
}

describe("SessionTimers", () => {
  test("a named timer runs its action once, when it is due", () => {
    const { clock, fire, waits } = fakeClock();
    const timers = new SessionTimers(clock);
    const ran: string[] = [];
    timers.after("kill", 100, () => ran.push("kill"));
    timers.after("linger", 200, () => ran.push("linger"));
    expect(waits()).toEqual([
      { ms: 100, unref: false },
      { ms: 200, unref: false },
    ]);
    fire(100);
    expect(ran).toEqual(["kill"]);
    // Fired: it may be set again, and cancelling it is not an error.
    timers.cancel("kill");
    timers.after("kill", 100, () => ran.push("kill again"));
    fire(100);
    expect(ran).toEqual(["kill", "kill again"]);
  });

  test("cancel clears one timer and leaves the others", () => {
    const { clock, fire, waits } = fakeClock();
    const timers = new SessionTimers(clock);
    const ran: string[] = [];
    timers.after("linger", 10, () => ran.push("linger"));
    timers.after("slow-output", 10, () => ran.push("slow-output"));
    timers.cancel("linger");
    timers.cancel("kill");
    expect(waits()).toHaveLength(1);
    fire(10);
    expect(ran).toEqual(["slow-output"]);
  });

  test("dispose clears every timer, may be called again, and refuses new ones", () => {
    const { clock, fire, waits } = fakeClock();
    const timers = new SessionTimers(clock);
    const ran: string[] = [];
    timers.after("kill", 10, () => ran.push("kill"));
    timers.after("input-first-line", 10, () => ran.push("input-first-line"), { unref: true });
    timers.dispose();
    timers.dispose();
    expect(waits()).toEqual([]);
    fire(10);
    expect(ran).toEqual([]);
    expect(() => timers.after("linger", 10, () => {})).toThrow(
      'session timer "linger" set after the run ended',
    );
  });

  test("a name still pending cannot be set twice", () => {
    const { clock } = fakeClock();
    const timers = new SessionTimers(clock);
    timers.after("kill", 10, () => {});
    expect(() => timers.after("kill", 20, () => {})).toThrow('session timer "kill" is already set');
  });

  test("unref is passed on to the clock's timer", () => {
    const { clock, waits } = fakeClock();
    const timers = new SessionTimers(clock);
    timers.after("output-handshake", 5, () => {}, { unref: true });
    expect(waits()).toEqual([{ ms: 5, unref: true }]);
  });

  test("on the system clock: a timer fires, a disposed one never does", async () => {
    const timers = new SessionTimers();
    const ran: string[] = [];
    const fired = new Promise<void>((resolve) =>
      timers.after("kill", 1, () => {
        ran.push("kill");
        resolve();
      }),
    );
    await fired;
    timers.after("linger", 1, () => ran.push("linger"));
    timers.dispose();
    // A later timer of our own: by the time it fires, the disposed one would have.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ran).toEqual(["kill"]);
  });
});

describe("ProtocolNegotiation's waits are the session's timers", () => {
  function negotiation() {
    const { clock, fire, waits } = fakeClock();
    const timers = new SessionTimers(clock);
    const closed: string[] = [];
    const counters = createCounterBuffer();
    const subject = new ProtocolNegotiation(
      counters,
      { input: "in", output: "out" },
      { closeInputStdin: () => closed.push("stdin"), notice: () => {} },
      timers,
    );
    return { subject, fire, waits, closed, counters, timers };
  }

  test("an input silent past the first-line wait has its stdin closed, once", () => {
    const { fire, waits, closed } = negotiation();
    expect(waits()).toEqual([{ ms: 5000, unref: true }]);
    fire(5000);
    expect(closed).toEqual(["stdin"]);
  });

  test("after a v2 input's handshake, a silent output is taken as v1 when its wait ends", () => {
    const { subject, fire, counters } = negotiation();
    subject.inputFirstLine({ status: "ready", protocol: 2 });
    expect(outputProtocolOf(counters)).toBe(0);
    fire(5000);
    expect(outputProtocolOf(counters)).toBe(1);
  });

  test("dispose cancels its waits; the session's dispose clears any left", () => {
    const { subject, waits, timers } = negotiation();
    subject.inputFirstLine({ status: "ready", protocol: 2 });
    subject.dispose();
    expect(waits()).toEqual([]);
    timers.dispose();
    expect(waits()).toEqual([]);
  });
});
