// SessionState without processes or timers: the phases and the moves they refuse, the first failure
// winning, and each exit and relay end judged to its exact failure (or none), down to the report.
import { describe, expect, test } from "bun:test";
import type { RelayEnd } from "../../../src/relay/index.ts";
import type { ProviderExit } from "../../../src/runtime/provider-exit.ts";
import {
  type RunEnd,
  type SessionFailure,
  SessionState,
} from "../../../src/runtime/session-state.ts";

const exited = (exitCode: number): ProviderExit => ({ exitCode, signal: null, stderrTail: [] });
const killed = (signal: string): ProviderExit => ({ exitCode: null, signal, stderrTail: [] });

function session() {
  const told: { failure: SessionFailure; first: boolean }[] = [];
  const state = new SessionState({
    labels: { input: "in", output: "out" },
    stopTimeoutMs: 2500,
    onFailure: (failure, first) => told.push({ failure, first }),
  });
  return { state, told };
}

function runEnd(overrides: Partial<RunEnd> = {}): RunEnd {
  return {
    input: exited(0),
    output: exited(0),
    relay: {
      end: { kind: "ended" },
      lines: 3,
      inFlightLines: 0,
      inFlightBytes: 0,
      cutLineBytes: 0,
    },
    unmatchedEchoes: [],
    outputUnreadBytes: undefined,
    protocols: { input: undefined, output: undefined },
    committed: undefined,
    commitDelaysMs: [],
    ...overrides,
  };
}

describe("SessionState phases", () => {
  test("a run that ends on its own: starting, relaying, draining, ended", () => {
    const { state } = session();
    const phases = [state.phase];
    state.started();
    phases.push(state.phase);
    state.relayEnded({ kind: "ended" });
    phases.push(state.phase);
    expect(state.relayHasEnded).toBe(true);
    state.end(runEnd());
    phases.push(state.phase);
    expect(phases).toEqual(["starting", "relaying", "draining", "ended"]);
  });

  test("a stop, then a failure, then the relay's end: stopping, failing, draining", () => {
    const { state } = session();
    state.started();
    state.stopRequested();
    expect(state.phase).toBe("stopping");
    state.inputLingered();
    expect(state.phase).toBe("failing");
    state.stopRequested();
    expect(state.phase).toBe("failing");
    state.relayEnded({ kind: "ended" });
    expect(state.phase).toBe("draining");
  });

  test("a stop before the providers started stays in force once they have", () => {
    const { state } = session();
    state.stopRequested();
    state.started();
    expect(state.phase).toBe("stopping");
  });

  test("a stop or a failure after the relay ended keeps the run draining", () => {
    const { state } = session();
    state.started();
    state.relayEnded({ kind: "ended" });
    state.stopRequested();
    state.inputLingered();
    expect(state.phase).toBe("draining");
    expect(state.failure?.role).toBe("input");
  });

  test("a stop signal racing the end changes nothing", () => {
    const { state } = session();
    state.started();
    state.relayEnded({ kind: "ended" });
    const report = state.end(runEnd());
    state.stopRequested();
    expect(state.phase).toBe("ended");
    expect(report.failure).toBeUndefined();
  });

  test.each<[string, (state: SessionState) => void, string]>([
    ["started twice", (state) => state.started(), "session cannot move from relaying to relaying"],
    [
      "the relay ending twice",
      (state) => {
        state.relayEnded({ kind: "ended" });
        state.relayEnded({ kind: "ended" });
      },
      "session cannot move from draining to draining",
    ],
    [
      "the end before the relay's",
      (state) => state.end(runEnd()),
      "session cannot move from relaying to ended",
    ],
    [
      "a failure after the end",
      (state) => {
        state.relayEnded({ kind: "ended" });
        state.end(runEnd());
        state.stdoutCopyFailed("EPIPE");
      },
      "session failure after the run ended: cannot copy the stdout of output provider out to dstream's stdout (EPIPE)",
    ],
    [
      "the relay breaking after it ended",
      (state) => {
        state.relayEnded({ kind: "ended" });
        state.relayBroke("worker gone");
      },
      "session cannot move from draining to draining",
    ],
  ])("refuses %s", (_name, moves, message) => {
    const { state } = session();
    state.started();
    expect(() => moves(state)).toThrow(message);
  });

  test("the relay cannot end before the providers started", () => {
    const { state } = session();
    expect(() => state.relayEnded({ kind: "ended" })).toThrow(
      "session cannot move from starting to draining",
    );
  });
});

describe("SessionState failures", () => {
  test.each(["input", "output"] as const)(
    "the %s's own error message replaces its bare exit status, judged first because it exited at once",
    (role) => {
      const { state, told } = session();
      state.started();
      if (role === "input") state.inputExited(exited(1));
      else state.outputExitedWhileSending(exited(1));
      state.handshakeError(role, "count: must be a whole number");
      expect(state.failure).toEqual({
        code: "HANDSHAKE_FAILED",
        role,
        message: `${role} provider ${role === "input" ? "in" : "out"} reported an error: count: must be a whole number`,
      });
      expect(told.map(({ first }) => first)).toEqual([true]);
    },
  );

  test("the output's error message replaces the broken pipe to it, even once its exit explained the pipe", () => {
    const { state, told } = session();
    state.started();
    state.relayEnded({ kind: "output-closed", message: "EPIPE" });
    state.outputExitExplainsClose(exited(1));
    state.handshakeError("output", "topic missing");
    expect(state.failure).toEqual({
      code: "HANDSHAKE_FAILED",
      role: "output",
      message: "output provider out reported an error: topic missing",
    });
    expect(told.map(({ first }) => first)).toEqual([true]);
  });

  test("a failure that is more than a bare end is not rewritten by the output's exit", () => {
    const { state } = session();
    state.started();
    state.stdoutCopyFailed("EPIPE: broken pipe, write");
    state.relayEnded({ kind: "output-closed", message: "EPIPE" });
    state.outputExitExplainsClose(exited(1));
    expect(state.failure?.message).toBe(
      "cannot copy the stdout of output provider out to dstream's stdout (EPIPE: broken pipe, write)",
    );
  });

  test("another provider's words do not replace the first failure", () => {
    const { state } = session();
    state.started();
    state.inputExited(exited(1));
    state.handshakeError("output", "late");
    expect(state.failure?.message).toBe("input provider in exited with code 1");
  });

  test("the first failure wins; every one asks the input to stop, only the first sets the kill timer", () => {
    const { state, told } = session();
    state.started();
    state.handshakeError("output", "no such table");
    state.inputLingered();
    expect(state.failure).toEqual({
      code: "HANDSHAKE_FAILED",
      role: "output",
      message: "output provider out reported an error: no such table",
    });
    expect(told.map(({ failure, first }) => [failure.code, first])).toEqual([
      ["HANDSHAKE_FAILED", true],
      ["PROVIDER_FAILED", false],
    ]);
  });

  test.each<[string, (state: SessionState) => void, SessionFailure]>([
    [
      "the input's error handshake",
      (state) => state.handshakeError("input", "bad config"),
      {
        code: "HANDSHAKE_FAILED",
        role: "input",
        message: "input provider in reported an error: bad config",
      },
    ],
    [
      "an error handshake without a message",
      (state) => state.handshakeError("output", ""),
      {
        code: "HANDSHAKE_FAILED",
        role: "output",
        message: "output provider out reported an error: (no message)",
      },
    ],
    [
      "an input that closed its stdout but lives on",
      (state) => state.inputLingered(),
      {
        code: "PROVIDER_FAILED",
        role: "input",
        message: "input provider in closed its stdout but did not exit within 2.5 s",
      },
    ],
    [
      "dstream's own stdout closed",
      (state) => state.stdoutCopyFailed("EPIPE: broken pipe"),
      {
        code: "PROVIDER_FAILED",
        role: "output",
        message:
          "cannot copy the stdout of output provider out to dstream's stdout (EPIPE: broken pipe)",
      },
    ],
    [
      "an output that echoed what it was never sent",
      (state) => state.checkpointFailed('echoed checkpoint {"n":9} that it was never sent'),
      {
        code: "PROVIDER_FAILED",
        role: "output",
        message: 'output provider out echoed checkpoint {"n":9} that it was never sent',
      },
    ],
    [
      "a state that cannot be written",
      (state) => state.checkpointFailed('cannot write the state of task "t" (x): ENOSPC'),
      { code: "STATE", message: 'cannot write the state of task "t" (x): ENOSPC' },
    ],
    [
      "the relay itself breaking",
      (state) => state.relayBroke("relay worker exited unexpectedly"),
      { code: "INTERNAL", message: "relay worker exited unexpectedly" },
    ],
    [
      "an output exiting while the input still sends",
      (state) => state.outputExitedWhileSending(killed("SIGKILL")),
      {
        code: "PROVIDER_FAILED",
        role: "output",
        message: "output provider out was killed by SIGKILL while the input was still sending",
      },
    ],
  ])("%s", (_name, happen, failure) => {
    const { state } = session();
    state.started();
    happen(state);
    expect(state.failure).toEqual(failure);
  });
});

describe("SessionState judges the input's exit", () => {
  // [exit, what came before it, the failure's message or undefined for a clean exit]
  test.each<[ProviderExit, "nothing" | "a stop" | "a failure", string | undefined]>([
    [exited(0), "nothing", undefined],
    [exited(0), "a stop", undefined],
    [exited(143), "nothing", "input provider in exited with code 143"],
    [killed("SIGTERM"), "nothing", "input provider in was killed by SIGTERM"],
    [exited(143), "a stop", undefined],
    [killed("SIGTERM"), "a stop", undefined],
    [killed("SIGTERM"), "a failure", undefined],
    [exited(143), "a failure", undefined],
    [killed("SIGKILL"), "a stop", "input provider in was killed by SIGKILL"],
    [exited(1), "a stop", "input provider in exited with code 1"],
    [exited(2), "nothing", "input provider in exited with code 2"],
    [killed("SIGSEGV"), "nothing", "input provider in was killed by SIGSEGV"],
  ])("%j after %s", (exit, before, message) => {
    const { state, told } = session();
    state.started();
    if (before === "a stop") state.stopRequested();
    if (before === "a failure") state.handshakeError("output", "x");
    const toldBefore = told.length;
    state.inputExited(exit);
    if (message === undefined) {
      expect(told.length).toBe(toldBefore);
      if (before !== "a failure") expect(state.failure).toBeUndefined();
    } else {
      expect(state.failure).toEqual({ code: "PROVIDER_FAILED", role: "input", message });
    }
  });
});

describe("SessionState judges the relay's end", () => {
  test.each<[RelayEnd, SessionFailure | undefined]>([
    [{ kind: "ended" }, undefined],
    // Judged when the input's first line came, through handshakeError.
    [{ kind: "handshake-error", message: "bad config" }, undefined],
    [
      { kind: "line-too-long", message: "line 7 is longer than --max-line-bytes (16 bytes)" },
      {
        code: "LINE_TOO_LONG",
        role: "input",
        message: "input provider in: line 7 is longer than --max-line-bytes (16 bytes)",
      },
    ],
    [
      { kind: "bad-checkpoint", message: "checkpoint line is not a JSON object" },
      {
        code: "PROVIDER_FAILED",
        role: "input",
        message:
          "input provider in wrote a bad checkpoint line: checkpoint line is not a JSON object",
      },
    ],
    [
      { kind: "not-protocol", preview: `Starting up... ${"x".repeat(100)}` },
      {
        code: "PROVIDER_FAILED",
        role: "input",
        message: `input provider in wrote "Starting up... ${"x".repeat(45)}" before any data: stdout must hold only the handshake and JSON lines (logs go to stderr)`,
      },
    ],
    [
      { kind: "output-closed", message: "EPIPE" },
      {
        code: "PROVIDER_FAILED",
        role: "output",
        message: "output provider out stopped reading its input (EPIPE)",
      },
    ],
  ])("%j", (end, failure) => {
    const { state } = session();
    state.started();
    state.relayEnded(end);
    expect(state.failure).toEqual(failure);
    expect(state.phase).toBe("draining");
  });

  test("an unknown end is refused before the run moves on", () => {
    const { state } = session();
    state.started();
    expect(() => state.relayEnded({ kind: "gone" } as unknown as RelayEnd)).toThrow(
      'unknown relay end {"kind":"gone"}',
    );
    expect(state.phase).toBe("relaying");
  });

  test("a broken pipe is explained by the output's exit, when it just ended", () => {
    const { state } = session();
    state.started();
    state.relayEnded({ kind: "output-closed", message: "EPIPE" });
    state.outputExitExplainsClose(exited(0));
    expect(state.failure).toEqual({
      code: "PROVIDER_FAILED",
      role: "output",
      message: "output provider out exited with code 0 while the input was still sending",
    });
  });

  test("an earlier failure of another provider is not rewritten by the output's exit", () => {
    const { state } = session();
    state.started();
    state.inputLingered();
    state.relayEnded({ kind: "output-closed", message: "EPIPE" });
    state.outputExitExplainsClose(killed("SIGKILL"));
    expect(state.failure?.message).toBe(
      "input provider in closed its stdout but did not exit within 2.5 s",
    );
  });
});

describe("SessionState at the end", () => {
  test.each([
    [
      0,
      3,
      "output provider out exited 0 without reading 3 lines it was sent: they were not delivered",
    ],
    [
      0,
      1,
      "output provider out exited 0 without reading 1 line it was sent: they were not delivered",
    ],
    [0, 0, undefined],
    [2, 3, "output provider out exited with code 2"],
  ])("an output that exits %i leaving %i lines unread", (code, lines, message) => {
    const { state } = session();
    state.started();
    state.relayEnded({ kind: "ended" });
    const report = state.end(runEnd({ output: exited(code), outputUnreadLines: lines }));
    expect(report.failure?.message).toBe(message as string);
  });

  test.each<[string, Partial<RunEnd>, SessionFailure | undefined]>([
    ["both exit 0", {}, undefined],
    [
      "the output exits non-zero",
      { output: exited(3) },
      {
        code: "PROVIDER_FAILED",
        role: "output",
        message: "output provider out exited with code 3",
      },
    ],
    [
      "the output is killed",
      { output: killed("SIGKILL") },
      {
        code: "PROVIDER_FAILED",
        role: "output",
        message: "output provider out was killed by SIGKILL",
      },
    ],
    [
      "the input is killed",
      { input: killed("SIGKILL") },
      {
        code: "PROVIDER_FAILED",
        role: "input",
        message: "input provider in was killed by SIGKILL",
      },
    ],
    [
      "both fail: the input is judged first",
      { input: exited(1), output: exited(2) },
      { code: "PROVIDER_FAILED", role: "input", message: "input provider in exited with code 1" },
    ],
    [
      "an echo never matched",
      { unmatchedEchoes: [`{"n":"${"9".repeat(100)}"}`, '{"n":2}'] },
      {
        code: "PROVIDER_FAILED",
        role: "output",
        message: `output provider out echoed checkpoint {"n":"${"9".repeat(74)} that it was never sent`,
      },
    ],
    [
      "an unmatched echo after an output failure",
      { output: exited(1), unmatchedEchoes: ['{"n":2}'] },
      {
        code: "PROVIDER_FAILED",
        role: "output",
        message: "output provider out exited with code 1",
      },
    ],
  ])("%s", (_name, run, failure) => {
    const { state, told } = session();
    state.started();
    state.relayEnded({ kind: "ended" });
    const report = state.end(runEnd(run));
    expect(report.failure).toEqual(failure);
    // Both providers are gone: nothing is left to stop.
    expect(told).toEqual([]);
  });

  test("a SIGTERM exit of the input after a stop is clean at the end too", () => {
    const { state } = session();
    state.started();
    state.stopRequested();
    state.relayEnded({ kind: "ended" });
    expect(state.end(runEnd({ input: killed("SIGTERM") })).failure).toBeUndefined();
  });

  test("the first failure stays the run's, whatever the exits say", () => {
    const { state } = session();
    state.started();
    state.relayEnded({ kind: "line-too-long", message: "line 2 is longer" });
    const report = state.end(runEnd({ input: killed("SIGKILL"), output: exited(1) }));
    expect(report.failure?.code).toBe("LINE_TOO_LONG");
  });

  test("the report carries the relay's counts, the protocols known and the last commit", () => {
    const { state } = session();
    state.started();
    state.relayEnded({ kind: "ended" });
    const committed = { value: '{"n":3}', events: 3, at: 1000 };
    const report = state.end(
      runEnd({
        relay: {
          end: { kind: "ended" },
          lines: 10,
          inFlightLines: 2,
          inFlightBytes: 30,
          cutLineBytes: 4,
        },
        outputUnreadBytes: 512,
        protocols: { input: 2, output: undefined },
        committed,
        commitDelaysMs: [5, 7],
      }),
    );
    expect(report).toEqual({
      input: exited(0),
      output: exited(0),
      relayedLines: 10,
      inFlightLines: 2,
      inFlightBytes: 30,
      cutLineBytes: 4,
      outputUnreadBytes: 512,
      protocols: { input: 2 },
      committed,
      commitDelaysMs: [5, 7],
    });
  });

  test("a relay that broke reports zero counts, and leaves out what is unknown", () => {
    const { state } = session();
    state.started();
    state.relayBroke("relay worker failed: boom");
    const report = state.end(runEnd({ relay: undefined, outputUnreadBytes: 0 }));
    expect(report).toEqual({
      input: exited(0),
      output: exited(0),
      failure: { code: "INTERNAL", message: "relay worker failed: boom" },
      relayedLines: 0,
      inFlightLines: 0,
      inFlightBytes: 0,
      cutLineBytes: 0,
      protocols: {},
      commitDelaysMs: [],
    });
  });
});
