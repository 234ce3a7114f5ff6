// CheckpointFlow without processes: what is persisted and committed, in which order, for forwarded
// (v2 output), dropped (v1 output) and undecided checkpoints, echoes early or invented, and failures.
import { describe, expect, test } from "bun:test";
import type { RelayedCheckpoint } from "../../../src/relay/index.ts";
import { CheckpointFlow, type CommittedCheckpoint } from "../../../src/runtime/checkpoint-flow.ts";

type Mode = "forward" | "drop" | "undecided";

const echo = (n: number) => `{"checkpoint":{"n":${n}}}`;

function checkpoint(n: number, mode: Mode): RelayedCheckpoint {
  return {
    line: echo(n),
    value: JSON.stringify({ n }),
    events: n,
    forwarded: mode === "forward",
    undecided: mode === "undecided",
    at: Date.now(),
  };
}

function flow(options: { persist?: (checkpoint: CommittedCheckpoint) => Promise<void> } = {}) {
  const persisted: string[] = [];
  const commits: string[] = [];
  const failures: string[] = [];
  const order: string[] = [];
  const subject = new CheckpointFlow({
    persist: async (committed) => {
      await options.persist?.(committed);
      persisted.push(committed.value);
      order.push(`persist ${committed.value}`);
    },
    sendCommit: (value) => {
      commits.push(value);
      order.push(`commit ${value}`);
    },
    onFailure: (message) => failures.push(message),
  });
  return { subject, persisted, commits, failures, order };
}

describe("CheckpointFlow", () => {
  test("a v2 output's echo commits the echoed checkpoint and every one before it, persisted first", async () => {
    const { subject, commits, order } = flow();
    for (const n of [10, 20, 30]) subject.relayed(checkpoint(n, "forward"));
    subject.echoed(echo(20));
    await subject.settled();
    expect(commits).toEqual(['{"n":20}']);
    expect(order).toEqual(['persist {"n":20}', 'commit {"n":20}']);
    subject.echoed(echo(30));
    await subject.settled();
    expect(subject.committed?.value).toBe('{"n":30}');
    expect(subject.committed?.events).toBe(30);
    expect(subject.unmatchedEchoes()).toEqual([]);
  });

  test("nothing forwarded is committed before its echo", async () => {
    const { subject, persisted } = flow();
    subject.relayed(checkpoint(10, "forward"));
    await subject.settled();
    expect(persisted).toEqual([]);
    expect(subject.committed).toBeUndefined();
  });

  test("an echo that overtakes the relay's report is matched once the report arrives", async () => {
    const { subject, commits } = flow();
    subject.echoed(echo(10));
    expect(subject.unmatchedEchoes()).toEqual(['{"n":10}']);
    subject.relayed(checkpoint(10, "forward"));
    await subject.settled();
    expect(commits).toEqual(['{"n":10}']);
    expect(subject.unmatchedEchoes()).toEqual([]);
  });

  test("echoes that overtake a whole batch of reports (the relay tells in batches) are all matched", async () => {
    const { subject, commits } = flow();
    // The output echoes 10, 30 (covering 20) and 40 before the relay's batch of 10..40 arrives.
    for (const n of [10, 30, 40]) subject.echoed(echo(n));
    for (const n of [10, 20, 30]) subject.relayed(checkpoint(n, "forward"));
    expect(subject.unmatchedEchoes()).toEqual(['{"n":40}']);
    subject.relayed(checkpoint(40, "forward"));
    await subject.settled();
    expect(subject.committed?.value).toBe('{"n":40}');
    expect(subject.unmatchedEchoes()).toEqual([]);
    expect(commits.at(-1)).toBe('{"n":40}');
  });

  test("a value sent twice is matched by each of its two echoes in turn", async () => {
    const { subject } = flow();
    subject.echoed(echo(5));
    subject.echoed(echo(5));
    const first = { ...checkpoint(5, "forward"), events: 5 };
    const second = { ...checkpoint(5, "forward"), events: 6 };
    subject.relayed(first);
    expect(subject.unmatchedEchoes()).toEqual(['{"n":5}']);
    subject.relayed(second);
    await subject.settled();
    expect(subject.unmatchedEchoes()).toEqual([]);
    expect(subject.committed?.events).toBe(6);
  });

  test("an echo of a checkpoint never sent stays unmatched (the session fails the run on it)", async () => {
    const { subject, commits } = flow();
    subject.relayed(checkpoint(10, "forward"));
    subject.echoed(echo(99));
    await subject.settled();
    expect(commits).toEqual([]);
    expect(subject.unmatchedEchoes()).toEqual(['{"n":99}']);
  });

  test("an echoed line that is not a checkpoint fails the flow once", () => {
    const { subject, failures } = flow();
    subject.echoed('{"checkpoint":');
    subject.echoed("not json");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toStartWith("echoed a line that is not a checkpoint");
  });

  test("a dropped checkpoint (v1 output) is committed without an echo", async () => {
    const { subject, commits } = flow();
    subject.relayed(checkpoint(5, "drop"));
    await subject.settled();
    expect(commits).toEqual(['{"n":5}']);
  });

  test("an undecided checkpoint waits, and is committed once the output is known to be v1", async () => {
    const { subject, commits } = flow();
    subject.relayed(checkpoint(5, "undecided"));
    await subject.settled();
    expect(commits).toEqual([]);
    subject.outputDecided(1);
    await subject.settled();
    expect(commits).toEqual(['{"n":5}']);
  });

  test("an undecided checkpoint met after a v1 decision is committed at once", async () => {
    const { subject, commits } = flow();
    subject.outputDecided(1);
    subject.relayed(checkpoint(5, "undecided"));
    await subject.settled();
    expect(commits).toEqual(['{"n":5}']);
  });

  test("with a v2 output, an undecided checkpoint is covered by a later echo, never committed alone", async () => {
    const { subject, commits } = flow();
    subject.relayed(checkpoint(5, "undecided"));
    subject.outputDecided(2);
    subject.relayed(checkpoint(8, "forward"));
    await subject.settled();
    expect(commits).toEqual([]);
    subject.echoed(echo(8));
    subject.outputEndedCleanly();
    await subject.settled();
    expect(commits).toEqual(['{"n":8}']);
  });

  test("with a v2 output, an undecided checkpoint is committed when the output ends cleanly", async () => {
    const { subject, commits } = flow();
    subject.outputDecided(2);
    subject.relayed(checkpoint(5, "undecided"));
    await subject.settled();
    expect(commits).toEqual([]);
    subject.outputEndedCleanly();
    await subject.settled();
    expect(commits).toEqual(['{"n":5}']);
  });

  test("the decision is taken once: a later one changes nothing", async () => {
    const { subject, commits } = flow();
    subject.outputDecided(2);
    subject.relayed(checkpoint(5, "undecided"));
    subject.outputDecided(1);
    await subject.settled();
    expect(commits).toEqual([]);
  });

  test("while persists are slow, only the newest acknowledged checkpoint is persisted next", async () => {
    let release: () => void = () => {};
    let calls = 0;
    const { subject, persisted } = flow({
      persist: () => {
        calls += 1;
        if (calls > 1) return Promise.resolve();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    subject.relayed(checkpoint(1, "drop"));
    await Bun.sleep(0);
    for (const n of [2, 3, 4]) subject.relayed(checkpoint(n, "drop"));
    release();
    await subject.settled();
    expect(persisted).toEqual(['{"n":1}', '{"n":4}']);
    expect(subject.committed?.value).toBe('{"n":4}');
  });

  test("a failed persist fails the flow and nothing is committed to the input", async () => {
    const { subject, commits, failures } = flow({
      persist: () => Promise.reject(new Error("disk full")),
    });
    subject.relayed(checkpoint(1, "drop"));
    await subject.settled();
    expect(failures).toEqual(["disk full"]);
    expect(commits).toEqual([]);
    subject.relayed(checkpoint(2, "drop"));
    await subject.settled();
    expect(commits).toEqual([]);
  });
});
