// The postgres output's committer: batches gathered to batch_rows/batch_bytes, one commit at a
// time and in order, everything committed by flush, a failed commit reported and never repeated.
import { describe, expect, test } from "bun:test";
import { Committer } from "../../../../src/providers/postgres/committer.ts";
import { Batch } from "../../../../src/sdk/index.ts";

function batch(first: number, count: number): Batch {
  const lines = Array.from({ length: count }, (_, index) =>
    new TextEncoder().encode(`{"n":${first + index}}`),
  );
  return new Batch(
    lines,
    first,
    lines.reduce((sum, line) => sum + line.length, 0),
  );
}

const limits = { batch_rows: 3, batch_bytes: 1 << 20, batch_wait_ms: 60_000 };

describe("Committer", () => {
  test("commits every batch_rows lines, the rest on flush, in order", async () => {
    const commits: string[] = [];
    const committer = new Committer(limits, async (gathered) => {
      await Bun.sleep(5);
      commits.push(`${gathered.firstLineNumber}+${gathered.size}`);
    });
    await committer.add(batch(1, 2));
    await committer.add(batch(3, 5));
    await committer.flush();
    committer.dispose();
    expect(commits).toEqual(["1+3", "4+3", "7+1"]);
  });

  test("batch_bytes cuts before the line that would pass it", async () => {
    const sizes: number[] = [];
    const committer = new Committer(
      { batch_rows: 100, batch_bytes: 20, batch_wait_ms: 60_000 },
      async (gathered) => {
        sizes.push(gathered.size);
      },
    );
    await committer.add(batch(1, 5)); // 7 bytes each: two fit in 20
    await committer.flush();
    committer.dispose();
    expect(sizes).toEqual([2, 2, 1]);
  });

  test("a failed commit fails the next flush; nothing after it is committed", async () => {
    const commits: number[] = [];
    const committer = new Committer(limits, async (gathered) => {
      if (gathered.firstLineNumber === 4) throw new Error("refused");
      commits.push(gathered.firstLineNumber);
    });
    await committer.add(batch(1, 3));
    await committer.add(batch(4, 3));
    await committer.add(batch(7, 3)).catch(() => {});
    await expect(committer.flush()).rejects.toThrow("refused");
    committer.dispose();
    expect(commits).toEqual([1]);
  });

  test("batch_wait_ms commits a lone batch on its own", async () => {
    const commits: number[] = [];
    const committer = new Committer({ ...limits, batch_wait_ms: 10 }, async (gathered) => {
      commits.push(gathered.size);
    });
    await committer.add(batch(1, 1));
    const deadline = Date.now() + 10_000;
    while (commits.length === 0 && Date.now() < deadline) await Bun.sleep(5);
    committer.dispose();
    expect(commits).toEqual([1]);
  });
});
