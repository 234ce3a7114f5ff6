// Two `dstream run` tasks in one consumer group on a 4-partition topic (shared broker): one killed
// with -9 mid-stream, the other takes its partitions (everything at least once); the killed one
// restarts and both stop cleanly (nothing lost); a last clean stop and restart delivers nothing twice.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseEnv, dstreamBinary } from "../../helpers/binary.ts";
import {
  createTopic,
  produce,
  startKafka,
  uniqueTopic,
  waitForGroupMembers,
} from "./kafka-helpers.ts";

let broker = "";
const folders: string[] = [];
const running = new Set<Bun.Subprocess>();
beforeAll(async () => {
  broker = await startKafka();
  await dstreamBinary();
}, 600_000);
afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const CHUNK = 500;

interface Member {
  folder: string;
  path: string;
  child?: Bun.Subprocess;
}

function member(topic: string, group: string): Member {
  const folder = mkdtempSync(join(tmpdir(), "dstream-kafka-group-"));
  folders.push(folder);
  const path = join(folder, "out.jsonl");
  writeFileSync(
    join(folder, "dstream.hcl"),
    `task "t" {
  input {
    provider = "kafka"
    config {
      bootstrap_servers  = "${broker}"
      topics             = ["${topic}"]
      group_id           = "${group}"
      session_timeout_ms = 6000
    }
  }
  output {
    provider = "file"
    config {
      path = "${path}"
    }
  }
}
`,
  );
  return { folder, path };
}

async function start(task: Member): Promise<void> {
  const child = Bun.spawn(
    [await dstreamBinary(), "run", "t", "-c", join(task.folder, "dstream.hcl"), "--quiet"],
    { env: baseEnv(), stdout: "ignore", stderr: "pipe" },
  );
  running.add(child);
  task.child = child;
}

/** Sends `signal` and waits for the exit (SIGKILL past 30 s); returns the exit code and stderr. */
async function stop(task: Member, signal: "SIGTERM" | "SIGKILL") {
  const child = task.child as Bun.Subprocess<"ignore", "ignore", "pipe">;
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  clearTimeout(timer);
  running.delete(child);
  return { exitCode, signalCode: child.signalCode, stderr };
}

/** The numbers of the whole lines of `path` (the last may still be being written). */
function numbersIn(path: string): number[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { data: { n: number } }).data.n);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** Produces chunks `from`..`to` (CHUNK numbers each, spread over the partitions by key). */
async function produceChunks(topic: string, from: number, to: number, pauseMs = 0) {
  for (let chunk = from; chunk <= to; chunk++) {
    const numbers = range((chunk - 1) * CHUNK + 1, chunk * CHUNK);
    await produce(
      topic,
      numbers.map((n) => `${n}\t${JSON.stringify({ n })}`),
      "lz4",
      ["-K", "\t"],
    );
    if (pauseMs > 0) await Bun.sleep(pauseMs);
  }
}

/** Waits until `holds` is true of the numbers in `paths` together (bounded). */
async function waitUntil(paths: string[], holds: (seen: Set<number>) => boolean, what: string) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const seen = new Set(paths.flatMap(numbersIn));
    if (holds(seen)) return;
    if (Date.now() > deadline) throw new Error(`took too long: ${what} (${seen.size} seen)`);
    await Bun.sleep(200);
  }
}

const hasAll = (upTo: number) => (seen: Set<number>) => range(1, upTo).every((n) => seen.has(n));

test("two dstream run tasks in one group: kill -9 of one, takeover, restart, clean stops; nothing lost; after clean stops only the tail the group had not seen comes again", async () => {
  const topic = uniqueTopic("group");
  const group = uniqueTopic("g");
  await createTopic(topic, 4);
  const a = member(topic, group);
  const b = member(topic, group);
  await start(a);
  await start(b);
  await waitForGroupMembers(group, 2);

  // Phase 1: a stream of chunks; A is killed once it has written some of them.
  const streaming = produceChunks(topic, 1, 30, 100);
  await waitUntil([a.path], (seen) => seen.size >= 2 * CHUNK, "A reads part of the stream");
  const killed = await stop(a, "SIGKILL");
  expect(killed.signalCode).toBe("SIGKILL");
  const afterKill = Math.max(...numbersIn(a.path), ...numbersIn(b.path));
  await streaming;
  // B takes A's partitions (after session_timeout_ms) and reads everything at least once.
  await waitUntil([a.path, b.path], hasAll(30 * CHUNK), "every message after the kill");
  // What followed the kill can only have come to B, whichever partition it is on.
  const readByB = new Set(numbersIn(b.path));
  expect(range(afterKill + 1, 30 * CHUNK).filter((n) => !readByB.has(n))).toEqual([]);

  // Phase 2: A comes back, the group shares the partitions again, more comes; both stop cleanly.
  await start(a);
  await waitForGroupMembers(group, 2);
  await produceChunks(topic, 31, 40);
  await waitUntil([a.path, b.path], hasAll(40 * CHUNK), "every message of phase 2");
  for (const task of [a, b]) {
    const stopped = await stop(task, "SIGTERM");
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.exitCode).toBe(0);
  }
  const seenBefore = new Set([...numbersIn(a.path), ...numbersIn(b.path)]);
  expect(range(1, 40 * CHUNK).filter((n) => !seenBefore.has(n))).toEqual([]);
  const linesBefore = { a: numbersIn(a.path).length, b: numbersIn(b.path).length };

  // Phase 3: both restart, more comes, both stop cleanly: only the new messages, each once.
  await start(a);
  await start(b);
  await waitForGroupMembers(group, 2);
  await produceChunks(topic, 41, 50);
  await waitUntil([a.path, b.path], hasAll(50 * CHUNK), "every message of phase 3");
  for (const task of [a, b]) {
    const stopped = await stop(task, "SIGTERM");
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.exitCode).toBe(0);
  }
  const added = [
    ...numbersIn(a.path).slice(linesBefore.a),
    ...numbersIn(b.path).slice(linesBefore.b),
  ].sort((x, y) => x - y);
  // Every new message. A member may also read again the last of what the other delivered before
  // the stop: a task's final commit reaches dstream's state after its input exited, so it never
  // reached the group, and the partition's next owner starts from the group's offset (docs/kafka.md).
  // Those are phase 2's tail, never older.
  const addedSet = new Set(added);
  expect(range(40 * CHUNK + 1, 50 * CHUNK).filter((n) => !addedSet.has(n))).toEqual([]);
  expect(added.filter((n) => n <= 30 * CHUNK)).toEqual([]);
  expect(added.filter((n) => n > 40 * CHUNK).length).toBe(10 * CHUNK);
}, 300_000);
