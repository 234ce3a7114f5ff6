// postgres-cdc during a run (compiled binary, real server): the WAL its slot keeps, from restart_lsn,
// is checked every heartbeat; past lag_warning_bytes the input logs one warning line, once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dstreamBinary } from "../../helpers/binary.ts";
import {
  cdcConfig,
  cdcDatabase,
  dropCdcDatabases,
  lifecycle,
  startCdc,
  stopCdc,
  waitForEvents,
} from "./postgres-cdc-helpers.ts";
import { psql, startPostgres } from "./postgres-helpers.ts";

beforeAll(async () => {
  startPostgres();
  await dstreamBinary();
}, 600_000);
afterAll(() => dropCdcDatabases(), 120_000);

const warningLine = (slot: string) =>
  new RegExp(
    `^warning: slot "${slot}" keeps \\d+ bytes \\([0-9.]+ MiB\\) of WAL on the server's disk \\(from its restart_lsn\\), past lag_warning_bytes = 1048576; it is released as dstream commits checkpoints: if it keeps growing, the output is slow or failing \\(watch it with dstream status \\S+ --provider input\\)$`,
  );

test("a slot keeping more WAL than lag_warning_bytes: one warning line in a run, not one per check", async () => {
  const db = await cdcDatabase("lag");
  await psql(db.url, "CREATE TABLE t (id int PRIMARY KEY, note text)");
  const base = cdcConfig(db, { tables: ["t"], snapshot: "never", heartbeat: 200 });
  expect((await lifecycle("init", base)).result.status).toBe("Success");
  // Some 3 MiB of WAL the slot keeps: nothing is committed, so restart_lsn stays where it was.
  await psql(db.url, "INSERT INTO t SELECT i, repeat('x', 100) FROM generate_series(1, 20000) i");

  const quiet = await startCdc(base);
  await waitForEvents(quiet, 20_000);
  await Bun.sleep(1500);
  const quietRun = await stopCdc(quiet);
  expect(quietRun.exitCode).toBe(0);
  expect(quietRun.stderr).not.toContain("warning");

  const watched = await startCdc({ ...base, lag_warning_bytes: 1024 * 1024 });
  await waitForEvents(watched, 20_000);
  // Ten checks or so, with the WAL still growing: still one line.
  await psql(db.url, "INSERT INTO t SELECT i, 'more' FROM generate_series(20001, 25000) i");
  await waitForEvents(watched, 25_000);
  await Bun.sleep(2000);
  const run = await stopCdc(watched);
  expect(run.exitCode).toBe(0);
  const warnings = run.stderr.split("\n").filter((line) => line.includes("warning"));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(warningLine(db.slot));
}, 120_000);
