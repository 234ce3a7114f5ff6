// postgres-cdc -> postgres (replicate) through `dstream run`, killed with -9 part way through the
// initial snapshot of a large table while the source keeps changing (rows the snapshot had already
// copied are updated and deleted), then restarted: the replica ends equal to the source, by psql,
// and no temporary slot is left behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dstreamBinary } from "../../helpers/binary.ts";
import { psql, startPostgres } from "./postgres-helpers.ts";
import {
  cleanUpReplicas,
  replicaTask,
  stopRun,
  waitUntilEqual,
} from "./postgres-replica-helpers.ts";

beforeAll(async () => {
  startPostgres();
  await dstreamBinary();
}, 600_000);
afterAll(() => cleanUpReplicas(), 120_000);

const ROWS = 300_000;
const DDL = "CREATE TABLE big (id int PRIMARY KEY, label text NOT NULL, amount numeric(12, 2))";
const COMPARE =
  "SELECT count(*), sum(id), md5(string_agg(id || ':' || label || ':' || amount, ',' ORDER BY id)) FROM big";

test("kill -9 part way through the snapshot, then a restart: the replica equals the source", async () => {
  const task = await replicaTask("snapshot_kill", DDL, {
    tables: ["big"],
    seed: `INSERT INTO big SELECT i, 'row ' || i, i * 0.25 FROM generate_series(1, ${ROWS}) i`,
    input: { snapshot_batch_rows: 1000 },
    output: { batch_rows: 1000 },
  });
  const count = async () => Number(await psql(task.replica, "SELECT count(*) FROM big"));
  const first = await task.start();
  const deadline = Date.now() + 120_000;
  while ((await count()) < 30_000) {
    if (first.child.exitCode !== null) throw new Error(`the run ended: ${await first.stderr}`);
    if (Date.now() > deadline) throw new Error("took too long: the snapshot did not start");
    await Bun.sleep(20);
  }
  // Changes to rows the snapshot already copied, and to rows it had not reached, while it runs.
  await psql(
    task.source.url,
    `DELETE FROM big WHERE id % 100 = 0 AND id <= 20000;
     UPDATE big SET label = 'changed' WHERE id % 100 = 1;
     INSERT INTO big SELECT i, 'new ' || i, 1 FROM generate_series(${ROWS + 1}, ${ROWS + 1000}) i;`,
  );
  first.child.kill("SIGKILL");
  await first.child.exited;
  const copied = await count();
  // Killed part way, or the test proves less than it says.
  expect(copied).toBeLessThan(ROWS);
  await psql(task.source.url, "DELETE FROM big WHERE id % 100 = 2 AND id <= 20000;");

  const second = await task.start();
  try {
    await waitUntilEqual(task, second, COMPARE, 180_000);
    // The stream after the restarted snapshot carries on.
    await psql(
      task.source.url,
      "DELETE FROM big WHERE id <= 10; UPDATE big SET amount = 0 WHERE id = 11;",
    );
    await waitUntilEqual(task, second, COMPARE);
  } finally {
    const stopped = await stopRun(second);
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.stderr).toContain("the last snapshot stopped part way: starting it over");
    expect(stopped.exitCode).toBe(0);
  }
  expect(
    await psql(
      task.source.url,
      `SELECT slot_name FROM pg_replication_slots WHERE database = current_database() ORDER BY 1`,
    ),
  ).toBe(task.source.slot);
}, 400_000);
