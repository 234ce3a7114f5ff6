// postgres-cdc -> postgres (replicate) with a foreign key between two tables, through `dstream run`
// against the real server: batches are applied in stream order, so a child inserted with its parent,
// children deleted before their parent, a referenced key changed (ON UPDATE CASCADE) and TRUNCATE
// ... CASCADE all apply on a replica that keeps the same foreign key; psql compares both sides.
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

const DDL = `
  CREATE TABLE parent (id int PRIMARY KEY, name text NOT NULL);
  CREATE TABLE child (
    id int PRIMARY KEY,
    parent_id int NOT NULL REFERENCES parent (id) ON UPDATE CASCADE,
    note text
  );`;
const SEED = `INSERT INTO parent VALUES (1, 'one'), (2, 'two');
  INSERT INTO child VALUES (10, 1, 'a'), (11, 2, 'b');`;

const BOTH = `SELECT 'parent', id, name, NULL FROM parent UNION ALL
  SELECT 'child', id, parent_id::text, note FROM child ORDER BY 1, 2`;

test("foreign keys hold on the replica: inserts, deletes, a referenced key changed, TRUNCATE CASCADE", async () => {
  const task = await replicaTask("fk", DDL, {
    tables: ["parent", "child"],
    seed: SEED,
    // Long enough that each step below reaches the output as one batch.
    output: { batch_wait_ms: 300 },
  });
  const run = await task.start();
  try {
    // The snapshot is in the replica: the changes below are streamed.
    expect(await waitUntilEqual(task, run, BOTH)).toContain("child|11|2|b");

    // The child table comes first in the batch, then a new parent, then its child.
    await psql(
      task.source.url,
      `BEGIN;
       INSERT INTO child VALUES (12, 1, 'c');
       INSERT INTO parent VALUES (3, 'three');
       INSERT INTO child VALUES (13, 3, 'child of three');
       COMMIT;`,
    );
    await waitUntilEqual(task, run, BOTH);

    // The parent table comes first in the batch, then the children go, then their parent.
    await psql(
      task.source.url,
      `BEGIN;
       UPDATE parent SET name = 'renamed' WHERE id = 2;
       DELETE FROM child WHERE parent_id = 3;
       DELETE FROM parent WHERE id = 3;
       COMMIT;`,
    );
    await waitUntilEqual(task, run, BOTH);

    // A key its children reference changes; ON UPDATE CASCADE moves them at both ends.
    await psql(task.source.url, "UPDATE parent SET id = 20 WHERE id = 1;");
    expect(await waitUntilEqual(task, run, BOTH)).toContain("child|10|20|a");

    // Many short transactions across both tables, batched wherever the output cuts.
    await psql(
      task.source.url,
      `DO $$ BEGIN
         FOR t IN 100..400 LOOP
           INSERT INTO parent VALUES (t, 'p' || t);
           INSERT INTO child VALUES (t * 10, t, 'c' || t);
           COMMIT;
           DELETE FROM child WHERE id = (t - 1) * 10 AND t % 3 <> 0;
           DELETE FROM parent WHERE id = t - 1 AND t % 3 <> 0;
           COMMIT;
         END LOOP;
       END $$;`,
    );
    await waitUntilEqual(task, run, BOTH);

    // TRUNCATE of the referenced table, CASCADE at the source: one statement on the replica too.
    await psql(
      task.source.url,
      `TRUNCATE parent CASCADE;
       INSERT INTO parent VALUES (7, 'after');
       INSERT INTO child VALUES (70, 7, 'after');`,
    );
    expect(await waitUntilEqual(task, run, BOTH)).toBe("child|70|7|after\nparent|7|after|");
  } finally {
    const stopped = await stopRun(run);
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.exitCode).toBe(0);
  }
}, 300_000);

test("TRUNCATE of a parent and its child in one statement, without CASCADE, is one statement on the replica", async () => {
  const task = await replicaTask("fk_truncate", DDL, {
    tables: ["parent", "child"],
    seed: SEED,
  });
  const run = await task.start();
  try {
    expect(await waitUntilEqual(task, run, BOTH)).toContain("child|11|2|b");
    await psql(
      task.source.url,
      `TRUNCATE child, parent;
       INSERT INTO parent VALUES (5, 'five');`,
    );
    expect(await waitUntilEqual(task, run, BOTH)).toBe("parent|5|five|");
  } finally {
    const stopped = await stopRun(run);
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.exitCode).toBe(0);
  }
}, 300_000);
