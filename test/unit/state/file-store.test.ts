// The file backend without a run: atomic records, exact errors, and the run lock (held, refused
// naming its holder, taken over from a dead run, never from one that is still writing it).
import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { DstreamError } from "../../../src/errors.ts";
import { FileStateStore, taskFileName } from "../../../src/state/file-store.ts";
import { UNWRITTEN_LOCK_GRACE_MS } from "../../../src/state/run-lock.ts";
import type { RunOwner, StateRecord } from "../../../src/state/store.ts";

const root = mkdtempSync(join(tmpdir(), "dstream-file-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshStore = () => new FileStateStore(join(root, `state-${++folders}`));

const owner = (pid: number, host = hostname()): RunOwner => ({
  run: crypto.randomUUID(),
  pid,
  host,
  since: "2026-12-07T15:00:00.000Z",
});

const record = (checkpoint: unknown): StateRecord => ({
  checkpoint,
  committedAt: "2026-12-07T15:00:01.000Z",
  committedBy: owner(process.pid),
});

/** A pid that is certainly not running: the highest pid the kernel may give, plus one. */
const deadPid = () =>
  process.platform === "linux"
    ? Number(readFileSync("/proc/sys/kernel/pid_max", "utf8")) + 1
    : 99_999_999;

async function failure(promise: Promise<unknown>): Promise<DstreamError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DstreamError) return error;
    throw error;
  }
  throw new Error("expected a DstreamError");
}

describe("records", () => {
  test("a written record reads back; the folder holds it and nothing else", async () => {
    const store = freshStore();
    expect(await store.read("t")).toBeUndefined();
    await store.write("t", record({ offset: 42 }));
    await store.write("t", record({ offset: 43 }));
    expect((await store.read("t"))?.checkpoint).toEqual({ offset: 43 });
    expect(readdirSync(store.where)).toEqual(["t.checkpoint.json"]);
  });

  test("task names become file names that cannot leave the folder", () => {
    expect(taskFileName("orders")).toBe("orders");
    expect(taskFileName("../x")).toBe("%2E%2E%2Fx");
    expect(taskFileName("a*b")).toBe("a%2Ab");
  });

  test("reset removes the record once; false when there is none", async () => {
    const store = freshStore();
    await store.write("t", record(1));
    expect(await store.reset("t")).toBe(true);
    expect(await store.reset("t")).toBe(false);
    expect(await store.read("t")).toBeUndefined();
  });

  test("a damaged record is an error that names the file and the repair", async () => {
    const store = freshStore();
    await store.write("t", record(1));
    writeFileSync(join(store.where, "t.checkpoint.json"), '{"checkp');
    const error = await failure(store.read("t"));
    expect(error.message).toStartWith(
      `the state of task "t" (${join(store.where, "t.checkpoint.json")}) is damaged: `,
    );
    expect(error.message).toEndWith("(dstream state reset or set repairs it)");
  });

  test("a record that cannot be written is an error naming it, and no temp file stays", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "not a folder\n");
    const store = new FileStateStore(join(file, "state"));
    const error = await failure(store.write("t", record(1)));
    expect(error.message).toStartWith(
      `cannot write the state of task "t" (${join(file, "state", "t.checkpoint.json")}): `,
    );
    expect(readFileSync(file, "utf8")).toBe("not a folder\n");
  });
});

describe("run lock", () => {
  test("a held lock refuses a second run at once, naming pid, host and since (exit 2)", async () => {
    const store = freshStore();
    const first = await store.lock("t", owner(process.pid));
    const error = await failure(store.lock("t", owner(process.pid)));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      `task "t" is already running: pid ${process.pid} on ${hostname()} since 2026-12-07T15:00:00.000Z holds ${join(store.where, "t.lock")}`,
    );
    await first.release();
    const second = await store.lock("t", owner(process.pid));
    await second.release();
    expect(existsSync(join(store.where, "t.lock"))).toBe(false);
  });

  test("a lock left by a run whose process is gone (this host) is taken over", async () => {
    const store = freshStore();
    await store.lock("t", owner(deadPid()));
    const lock = await store.lock("t", owner(process.pid));
    expect(JSON.parse(readFileSync(join(store.where, "t.lock"), "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  test("a lock held on another host is never taken over (its pid means nothing here)", async () => {
    const store = freshStore();
    await store.lock("t", owner(deadPid(), "another-host"));
    const error = await failure(store.lock("t", owner(process.pid)));
    expect(error.message).toStartWith('task "t" is already running: pid ');
    expect(error.message).toContain(" on another-host since ");
  });

  test("an empty lock file that is new is another run writing it: waited for, not taken", async () => {
    const store = freshStore();
    const path = join(store.where, "t.lock");
    mkdirSync(store.where, { recursive: true });
    writeFileSync(path, "");
    const started = Date.now();
    // The other run writes its owner a moment later: that owner, alive, holds the lock.
    setTimeout(() => writeFileSync(path, `${JSON.stringify(owner(process.pid))}\n`), 200);
    const error = await failure(store.lock("t", owner(process.pid)));
    expect(error.message).toStartWith('task "t" is already running: pid ');
    expect(Date.now() - started).toBeLessThan(UNWRITTEN_LOCK_GRACE_MS);
  });

  test("an empty lock file older than the grace is a dead run's: taken over", async () => {
    const store = freshStore();
    const path = join(store.where, "t.lock");
    mkdirSync(store.where, { recursive: true });
    writeFileSync(path, "");
    const old = new Date(Date.now() - UNWRITTEN_LOCK_GRACE_MS - 60_000);
    utimesSync(path, old, old);
    const lock = await store.lock("t", owner(process.pid));
    expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  test("release leaves a lock that another run took over in the meantime", async () => {
    const store = freshStore();
    const path = join(store.where, "t.lock");
    const lock = await store.lock("t", owner(process.pid));
    const other = `${JSON.stringify(owner(process.pid))}\n`;
    writeFileSync(path, other);
    await lock.release();
    expect(readFileSync(path, "utf8")).toBe(other);
  });
});
