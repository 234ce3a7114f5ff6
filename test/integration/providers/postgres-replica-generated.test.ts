// Generated columns (GENERATED ALWAYS AS ... STORED) through postgres-cdc -> postgres (replicate)
// with `dstream run` against the real server: the snapshot and the stream leave them out, the
// replica computes them itself; psql compares every column, the generated one included.
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

const DDL = `CREATE TABLE lines (
  id int PRIMARY KEY,
  qty int NOT NULL,
  price numeric(10, 2) NOT NULL,
  total numeric GENERATED ALWAYS AS (qty * price) STORED,
  note text
)`;

const ROWS = "SELECT id, qty, price, total, note FROM lines ORDER BY id";

test("a table with a generated column: snapshot and stream replicate, the replica computes it", async () => {
  const task = await replicaTask("generated", DDL, {
    tables: ["lines"],
    seed: "INSERT INTO lines (id, qty, price, note) SELECT i, i, i * 1.5, 'n' || i FROM generate_series(1, 500) i",
  });
  const run = await task.start();
  try {
    expect((await waitUntilEqual(task, run, ROWS)).split("\n")).toHaveLength(500);
    await psql(
      task.source.url,
      `INSERT INTO lines (id, qty, price) VALUES (1000, 3, 2.50);
       UPDATE lines SET qty = qty + 1 WHERE id % 7 = 0;
       UPDATE lines SET id = 2000 WHERE id = 10;
       DELETE FROM lines WHERE id % 11 = 0;`,
    );
    const rows = await waitUntilEqual(task, run, ROWS);
    expect(rows).toContain("1000|3|2.50|7.50|");
    expect(rows).toContain("2000|10|15.00|150.00|n10");
  } finally {
    const stopped = await stopRun(run);
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.exitCode).toBe(0);
  }
}, 300_000);
