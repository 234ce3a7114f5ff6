// postgres-cdc in the compiled binary against the real PostgreSQL (test/services/postgres.sh),
// checked with psql: snapshot then stream in commit order, before images, the types matrix, the
// slot confirmed only on dstream's commit, resume, lifecycle and status, every error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { baseEnv, dstreamBinary } from "../../helpers/binary.ts";
import {
  type CdcLine,
  cdcConfig,
  cdcDatabase,
  commit,
  confirmedFlush,
  dropCdcDatabases,
  eventsOf,
  eventually,
  lastCheckpoint,
  lifecycle,
  startCdc,
  startReplicaLevelCluster,
  stopCdc,
  waitForEvents,
} from "./postgres-cdc-helpers.ts";
import { psql, startPostgres } from "./postgres-helpers.ts";

beforeAll(async () => {
  startPostgres();
  await dstreamBinary();
}, 600_000);
afterAll(() => dropCdcDatabases(), 120_000);

const shape = (line: CdcLine) => ({
  table: line.metadata?.table,
  operation: line.metadata?.operation,
  data: line.data,
  before: line.metadata?.before,
});

describe("postgres-cdc: snapshot, then the stream", () => {
  test("snapshot rows are inserts marked snapshot; then every change in commit order with before images", async () => {
    const db = await cdcDatabase("order");
    await psql(
      db.url,
      `CREATE TABLE items (id int PRIMARY KEY, name text, qty int);
       CREATE TABLE audit (id int, note text);
       ALTER TABLE audit REPLICA IDENTITY FULL;
       INSERT INTO items VALUES (1, 'one', 1), (2, 'two', 2);
       INSERT INTO audit VALUES (10, 'first');`,
    );
    const provider = await startCdc(cdcConfig(db, { tables: ["items", "public.audit"] }));
    const snapshot = await waitForEvents(provider, 3);
    expect(eventsOf(snapshot).map(shape)).toEqual([
      {
        table: "public.items",
        operation: "insert",
        data: { id: 1, name: "one", qty: 1 },
        before: undefined,
      },
      {
        table: "public.items",
        operation: "insert",
        data: { id: 2, name: "two", qty: 2 },
        before: undefined,
      },
      {
        table: "public.audit",
        operation: "insert",
        data: { id: 10, note: "first" },
        before: undefined,
      },
    ]);
    expect(eventsOf(snapshot).every((line) => line.metadata?.snapshot === true)).toBe(true);
    expect(eventsOf(snapshot)[0]?.metadata?.key).toEqual(["id"]);
    await psql(
      db.url,
      `BEGIN; INSERT INTO items VALUES (3, 'three', 3); UPDATE audit SET note = 'second' WHERE id = 10; COMMIT;
       UPDATE items SET qty = 20 WHERE id = 2;
       UPDATE items SET id = 4 WHERE id = 3;
       DELETE FROM items WHERE id = 1;
       DELETE FROM audit;
       TRUNCATE items;`,
    );
    const lines = await waitForEvents(provider, 10);
    const result = await stopCdc(provider);
    expect(result.exitCode).toBe(0);
    const changes = eventsOf(lines).slice(3);
    expect(changes.map(shape)).toEqual([
      {
        table: "public.items",
        operation: "insert",
        data: { id: 3, name: "three", qty: 3 },
        before: undefined,
      },
      {
        table: "public.audit",
        operation: "update",
        data: { id: 10, note: "second" },
        before: { id: 10, note: "first" },
      },
      {
        table: "public.items",
        operation: "update",
        data: { id: 2, name: "two", qty: 20 },
        before: undefined,
      },
      {
        table: "public.items",
        operation: "update",
        data: { id: 4, name: "three", qty: 3 },
        before: { id: 3 },
      },
      { table: "public.items", operation: "delete", data: { id: 1 }, before: { id: 1 } },
      {
        table: "public.audit",
        operation: "delete",
        data: { id: 10, note: "second" },
        before: { id: 10, note: "second" },
      },
      { table: "public.items", operation: "truncate", data: null, before: undefined },
    ]);
    expect(eventsOf(lines).map((line) => line.metadata?.sequence)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    // One transaction: one txid and one commit time; commit times are ISO 8601.
    expect(changes[0]?.metadata?.txid).toBe(changes[1]?.metadata?.txid as number);
    expect(changes[2]?.metadata?.txid).not.toBe(changes[1]?.metadata?.txid as number);
    expect(changes[0]?.metadata?.commit_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(changes[0]?.metadata?.source).toBe("postgres-cdc");
    expect(lastCheckpoint(lines)).toMatchObject({ phase: "stream", sequence: 10 });
    expect(result.stderr).toContain('created publication "');
    expect(result.stderr).toContain('created slot "');
  }, 120_000);
});

const typesTable = `CREATE TABLE types (
  id int8 PRIMARY KEY, big int8, small int2, exact numeric, ratio float8, flag bool,
  doc json, docb jsonb, tags text[], grid int4[], nums numeric[], raw bytea,
  at timestamp, atz timestamptz, day date, nothing text, word varchar(10), uid uuid, spell interval
)`;
const typesRow = `9223372036854775807, -9223372036854775808, 7, 1234567890123456789012345678901234567890.0123456789, 1.5,
  true, '{"a": [1, 2.50, "x\\ny"]}', '{"b": 12345678901234567890}', '{a,"b c",NULL,"q\\"uote"}', '{{1,2},{3,4}}',
  '{1.10,NaN}', '\\x00ff10', '2026-01-02 03:04:05.123456', '2026-01-02 03:04:05.5+02', '2026-02-03', NULL,
  'word', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:00:00'`;
const expectedTypes = {
  id: 9223372036854775807n,
  big: -9223372036854775808n,
  small: 7,
  exact: "1234567890123456789012345678901234567890.0123456789",
  ratio: 1.5,
  flag: true,
  doc: { a: [1, "2.50", "x\ny"] },
  docb: { b: 12345678901234567890n },
  tags: ["a", "b c", null, 'q"uote'],
  grid: [
    [1, 2],
    [3, 4],
  ],
  nums: ["1.10", "NaN"],
  raw: "AP8Q",
  at: "2026-01-02T03:04:05.123456",
  atz: "2026-01-02T01:04:05.5Z",
  day: "2026-02-03",
  nothing: null,
  word: "word",
  uid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
  spell: "1 day 02:00:00",
};

/** Parses a line keeping big integers and decimals exact (numbers as bigint or their text). */
function exactParse(line: string): CdcLine {
  return JSON.parse(line, (_key, value, context?: { source?: string }) => {
    if (typeof value !== "number" || !context?.source) return value;
    const source = context.source;
    if (/^-?\d+$/.test(source)) return Number.isSafeInteger(value) ? value : BigInt(source);
    return String(Number(source)) === source ? value : source;
  }) as CdcLine;
}

describe("postgres-cdc: values", () => {
  test("the types matrix, from the snapshot and from the stream, exact to the last digit", async () => {
    const db = await cdcDatabase("types");
    await psql(db.url, `${typesTable}; INSERT INTO types VALUES (${typesRow});`);
    const provider = await startCdc(cdcConfig(db, { tables: ["types"] }));
    await waitForEvents(provider, 1);
    await psql(
      db.url,
      `INSERT INTO types VALUES (${typesRow.replace("9223372036854775807", "1")});`,
    );
    await waitForEvents(provider, 2);
    expect((await stopCdc(provider)).exitCode).toBe(0);
    const raw = provider.stdout.split("\n").filter((line) => line.startsWith('{"data"'));
    expect(raw[0]).toContain('"id":9223372036854775807,"big":-9223372036854775808');
    expect(raw[0]).toContain('"exact":1234567890123456789012345678901234567890.0123456789');
    expect(raw[1]).toContain('"exact":1234567890123456789012345678901234567890.0123456789');
    expect(raw[1]).toContain('"nums":[1.10,"NaN"]');
    const [fromSnapshot, fromStream] = raw.map(exactParse);
    const normalise = (data: unknown) =>
      JSON.parse(
        JSON.stringify(data, (_key, value) => (typeof value === "bigint" ? `${value}n` : value)),
      );
    expect(normalise(fromSnapshot?.data)).toEqual(normalise(expectedTypes));
    expect(normalise(fromStream?.data)).toEqual(normalise({ ...expectedTypes, id: 1 }));
  }, 120_000);

  test("an unchanged TOASTed column is left out of data and named in metadata.unchanged_toast, never null", async () => {
    const db = await cdcDatabase("toast");
    await psql(
      db.url,
      `CREATE TABLE docs (id int PRIMARY KEY, n int, body text);
       ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
       INSERT INTO docs SELECT 1, 0, string_agg(md5(i::text), '') FROM generate_series(1, 2000) i;`,
    );
    const provider = await startCdc(cdcConfig(db, { tables: ["docs"] }));
    await waitForEvents(provider, 1);
    await psql(db.url, "UPDATE docs SET n = 1 WHERE id = 1");
    const lines = await waitForEvents(provider, 2);
    await stopCdc(provider);
    const [snapshot, update] = eventsOf(lines);
    expect(String(snapshot?.data?.body).length).toBe(64_000);
    expect(update?.data).toEqual({ id: 1, n: 1 });
    expect(update?.metadata?.unchanged_toast).toEqual(["body"]);
  }, 120_000);

  test("with REPLICA IDENTITY FULL an unchanged TOASTed column is taken from the old row: a key change carries the whole row", async () => {
    const db = await cdcDatabase("toastfull");
    await psql(
      db.url,
      `CREATE TABLE docs (id int PRIMARY KEY, n int, body text);
       ALTER TABLE docs REPLICA IDENTITY FULL;
       ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
       INSERT INTO docs SELECT 1, 0, string_agg(md5(i::text), '') FROM generate_series(1, 2000) i;`,
    );
    const provider = await startCdc(cdcConfig(db, { tables: ["docs"] }));
    await waitForEvents(provider, 1);
    await psql(db.url, "UPDATE docs SET id = 2, n = 1 WHERE id = 1");
    const lines = await waitForEvents(provider, 2);
    await stopCdc(provider);
    const [snapshot, update] = eventsOf(lines);
    expect(update?.data?.id).toBe(2);
    expect(update?.data?.body).toBe(snapshot?.data?.body);
    expect(update?.metadata?.unchanged_toast).toBeUndefined();
    expect((update?.metadata?.before as { id?: number } | undefined)?.id).toBe(1);
  }, 120_000);
});

describe("postgres-cdc: checkpoints and the slot", () => {
  test("the slot's confirmed_flush_lsn moves only when dstream commits a checkpoint", async () => {
    const db = await cdcDatabase("confirm");
    await psql(db.url, "CREATE TABLE t (id int PRIMARY KEY)");
    // heartbeat 200 ms: heartbeats make checkpoints too, and those must not confirm anything either.
    const provider = await startCdc(
      cdcConfig(db, { tables: ["t"], snapshot: "never", heartbeat: 200 }),
    );
    await eventually("the slot", async () => (await confirmedFlush(db.url, db.slot)) !== "");
    const before = await confirmedFlush(db.url, db.slot);
    await psql(db.url, "INSERT INTO t SELECT generate_series(1, 50)");
    await psql(db.url, "INSERT INTO t SELECT generate_series(51, 100)");
    const lines = await waitForEvents(provider, 100);
    // Received, written, keepalives answered and heartbeats taken: still not confirmed.
    await Bun.sleep(3000);
    expect(await confirmedFlush(db.url, db.slot)).toBe(before);
    const checkpoint = lastCheckpoint(lines);
    expect(checkpoint?.phase).toBe("stream");
    commit(provider, checkpoint);
    await eventually(
      `confirmed_flush_lsn = ${checkpoint?.lsn}`,
      async () => (await confirmedFlush(db.url, db.slot)) === checkpoint?.lsn,
    );
    expect((await stopCdc(provider)).exitCode).toBe(0);
  }, 120_000);

  test("heartbeat: an idle slot's checkpoint follows the server's WAL, confirmed only on commit", async () => {
    const db = await cdcDatabase("heartbeat");
    await psql(db.url, "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE elsewhere (id int)");
    const provider = await startCdc(
      cdcConfig(db, { tables: ["t"], snapshot: "never", heartbeat: 300 }),
    );
    await eventually("the slot", async () => (await confirmedFlush(db.url, db.slot)) !== "");
    const before = await confirmedFlush(db.url, db.slot);
    // WAL the publication does not cover: no events, yet the slot would hold it.
    await psql(db.url, "INSERT INTO elsewhere SELECT generate_series(1, 20000)");
    const walNow = await psql(db.url, "SELECT pg_current_wal_lsn()");
    let beat: CdcLine["checkpoint"];
    await eventually("a heartbeat checkpoint past the inserts", async () => {
      const text = provider.stdout;
      beat = text
        .slice(0, text.lastIndexOf("\n") + 1)
        .split("\n")
        .filter((line) => line.startsWith('{"checkpoint"'))
        .map((line) => (JSON.parse(line) as CdcLine).checkpoint)
        .pop();
      return (
        beat?.lsn !== undefined &&
        (await psql(db.url, `SELECT '${beat.lsn}'::pg_lsn >= '${walNow}'::pg_lsn`)) === "t"
      );
    });
    expect(
      eventsOf(
        provider.stdout
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as CdcLine),
      ),
    ).toEqual([]);
    expect(await confirmedFlush(db.url, db.slot)).toBe(before);
    commit(provider, beat);
    await eventually(
      `confirmed_flush_lsn = ${beat?.lsn}`,
      async () => (await confirmedFlush(db.url, db.slot)) === beat?.lsn,
    );
    expect((await stopCdc(provider)).exitCode).toBe(0);
  }, 120_000);

  test("a restart from the checkpoint delivers what came after it, once, numbering on", async () => {
    const db = await cdcDatabase("resume");
    await psql(db.url, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)");
    const first = await startCdc(cdcConfig(db, { tables: ["t"] }));
    await waitForEvents(first, 2);
    await psql(db.url, "INSERT INTO t VALUES (3); INSERT INTO t VALUES (4)");
    const firstLines = await waitForEvents(first, 4);
    expect((await stopCdc(first)).exitCode).toBe(0);
    const checkpoint = lastCheckpoint(firstLines);
    // Changes while nothing runs, and no commit reached the slot: it would resend 3 and 4.
    await psql(db.url, "INSERT INTO t VALUES (5); UPDATE t SET id = 6 WHERE id = 5");
    const second = await startCdc(cdcConfig(db, { tables: ["t"] }), checkpoint);
    const lines = await waitForEvents(second, 2);
    expect((await stopCdc(second)).exitCode).toBe(0);
    expect(
      eventsOf(lines).map((line) => [line.metadata?.operation, line.data, line.metadata?.sequence]),
    ).toEqual([
      ["insert", { id: 5 }, 5],
      ["update", { id: 6 }, 6],
    ]);
  }, 120_000);

  test("a checkpoint inside a transaction resumes after the changes it covers", async () => {
    const db = await cdcDatabase("midtx");
    await psql(db.url, "CREATE TABLE t (id int PRIMARY KEY)");
    const first = await startCdc(cdcConfig(db, { tables: ["t"], snapshot: "never" }));
    await eventually("the slot", async () => (await confirmedFlush(db.url, db.slot)) !== "");
    await psql(db.url, "INSERT INTO t SELECT generate_series(1, 20000)");
    const lines = await waitForEvents(first, 20_000);
    await stopCdc(first);
    const inside = lines.find((line) => line.checkpoint?.tx !== undefined)?.checkpoint;
    expect(inside).toBeDefined();
    const covered = inside?.done as number;
    const second = await startCdc(cdcConfig(db, { tables: ["t"], snapshot: "never" }), inside);
    const rest = await waitForEvents(second, 20_000 - covered);
    await stopCdc(second);
    const ids = eventsOf(rest).map((line) => line.data?.id);
    expect(ids.length).toBe(20_000 - covered);
    expect(ids[0]).toBe(covered + 1);
    expect(eventsOf(rest)[0]?.metadata?.sequence).toBe((inside?.sequence ?? 0) + 1);
  }, 180_000);
});

describe("postgres-cdc: lifecycle", () => {
  test("plan, init, status with the slot's lag, destroy", async () => {
    const db = await cdcDatabase("life");
    await psql(db.url, "CREATE TABLE t (id int PRIMARY KEY)");
    const config = cdcConfig(db, { tables: ["t"] });
    const plan = await lifecycle("plan", config);
    expect(plan.result.message).toBe(
      `init would create publication "${db.publication}" for public.t; init would create slot "${db.slot}" (pgoutput, persistent)`,
    );
    const init = await lifecycle("init", config);
    expect(init.result.status).toBe("Success");
    expect(init.result.message).toMatch(
      new RegExp(
        `^created publication "${db.publication}" for public.t; created slot "${db.slot}" \\(pgoutput\\) at \\d+/[0-9A-F]+$`,
      ),
    );
    expect((await lifecycle("plan", config)).result.message).toBe(
      `publication "${db.publication}" exists; slot "${db.slot}" exists`,
    );
    await psql(db.url, "INSERT INTO t SELECT generate_series(1, 10000)");
    const status = await lifecycle("status", config);
    expect(status.result.status).toBe("Success");
    expect(status.result.message).toMatch(
      new RegExp(
        `^slot "${db.slot}": inactive, lag \\d+ bytes( \\([0-9.]+ MiB\\))?: the WAL it keeps on the server's disk \\(restart \\d+/[0-9A-F]+\\); \\d+ bytes( \\([0-9.]+ MiB\\))? past its confirmed position \\(confirmed \\d+/[0-9A-F]+\\)$`,
      ),
    );
    const slot = status.result.resources[0] as {
      lag_bytes: number;
      unconfirmed_bytes: number;
      restart_lsn: string;
      confirmed_flush_lsn: string;
      active: boolean;
    };
    expect(slot.active).toBe(false);
    expect(slot.lag_bytes).toBeGreaterThan(100_000);
    // psql's figures, read after status: the WAL position only grows, so they are not smaller.
    const [retained, unconfirmed, restart, confirmed] = (
      await psql(
        db.url,
        `SELECT pg_current_wal_lsn() - restart_lsn, pg_current_wal_lsn() - confirmed_flush_lsn, restart_lsn, confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '${db.slot}'`,
      )
    ).split("|");
    expect(slot.lag_bytes).toBeLessThanOrEqual(Number(retained));
    expect(slot.lag_bytes).toBeGreaterThan(Number(retained) - 100_000);
    expect(slot.unconfirmed_bytes).toBeLessThanOrEqual(Number(unconfirmed));
    expect(slot.unconfirmed_bytes).toBeGreaterThan(Number(unconfirmed) - 100_000);
    expect([slot.restart_lsn, slot.confirmed_flush_lsn]).toEqual([restart ?? "", confirmed ?? ""]);
    const warned = await lifecycle("status", { ...config, lag_warning_bytes: 100_000 });
    expect(warned.result.message).toEndWith(
      "; warning: past lag_warning_bytes (100000), and it grows while the task does not run or its output falls behind: run it, or dstream destroy the task",
    );
    const destroy = await lifecycle("destroy", config);
    expect(destroy.result.message).toBe(
      `dropped slot "${db.slot}"; dropped publication "${db.publication}"`,
    );
    expect(
      await psql(
        db.url,
        `SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${db.slot}'`,
      ),
    ).toBe("0");
    expect(
      await psql(db.url, `SELECT count(*) FROM pg_publication WHERE pubname = '${db.publication}'`),
    ).toBe("0");
    const missing = await lifecycle("status", config);
    expect(missing.result).toMatchObject({
      status: "Failed",
      message: `slot "${db.slot}" does not exist (dstream init or dstream run creates it)`,
    });
  }, 120_000);

  test("without connection_string the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE are used", async () => {
    const db = await cdcDatabase("pgenv");
    await psql(db.url, "CREATE TABLE t (id int PRIMARY KEY)");
    const url = new URL(db.url);
    const config = { tables: ["t"], slot: db.slot, publication: db.publication };
    const child = Bun.spawn([await dstreamBinary(), "__provider", "postgres-cdc"], {
      env: {
        ...baseEnv(),
        DSTREAM_ROLE: "input",
        PGHOST: url.hostname,
        PGPORT: url.port,
        PGUSER: url.username,
        PGPASSWORD: url.password,
        PGDATABASE: db.name,
      },
      stdin: new TextEncoder().encode(
        `${JSON.stringify({ command: "plan", config, protocol: 2 })}\n`,
      ),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout.trim()).message).toBe(
      `init would create publication "${db.publication}" for public.t; init would create slot "${db.slot}" (pgoutput, persistent)`,
    );
  }, 60_000);

  test("destroy keeps a publication dstream did not create", async () => {
    const db = await cdcDatabase("keep");
    await psql(
      db.url,
      `CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION ${db.publication} FOR TABLE t`,
    );
    const config = cdcConfig(db, { tables: ["t"] });
    expect((await lifecycle("init", config)).result.message).toStartWith(
      `publication "${db.publication}" exists; created slot`,
    );
    expect((await lifecycle("destroy", config)).result.message).toBe(
      `dropped slot "${db.slot}"; kept publication "${db.publication}" (dstream did not create it)`,
    );
  }, 120_000);
});

/** Runs the input until it fails; its one error line. */
async function failure(config: Record<string, unknown>): Promise<{ line: string; stderr: string }> {
  const provider = await startCdc(config);
  const result = await provider.finish(60_000);
  expect(result.exitCode).toBe(1);
  const line =
    result.stderr.split("\n").find((text) => text.startsWith("error: ")) ?? result.stderr;
  return { line, stderr: result.stderr };
}

describe("postgres-cdc: errors, one line with the fix", () => {
  test("wal_level not logical (a second cluster with wal_level = replica)", async () => {
    const cluster = await startReplicaLevelCluster();
    try {
      const { line } = await failure({
        connection_string: cluster.url,
        tables: ["t"],
        slot: "s",
        publication: "p",
      });
      expect(line).toBe(
        'error: postgres-cdc: wal_level is "replica", logical replication needs "logical": run ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (the setting takes effect only at a restart)',
      );
    } finally {
      await cluster.stop();
    }
  }, 120_000);

  test("a table that does not exist", async () => {
    const db = await cdcDatabase("nosuch");
    const { line } = await failure(cdcConfig(db, { tables: ["nosuch"] }));
    expect(line).toBe(
      `error: postgres-cdc: table "nosuch" does not exist in database "${db.name}"; check tables (a name without a schema is looked up in the search_path)`,
    );
  }, 60_000);

  test("a table without replica identity", async () => {
    const db = await cdcDatabase("noident");
    await psql(db.url, "CREATE TABLE logs (line text)");
    const { line } = await failure(cdcConfig(db, { tables: ["logs"] }));
    expect(line).toBe(
      'error: postgres-cdc: table public.logs has no replica identity, so UPDATE and DELETE on it fail at the source once it is published; give it a primary key or run ALTER TABLE "public"."logs" REPLICA IDENTITY FULL',
    );
  }, 60_000);

  test("a role without REPLICATION, and one without SELECT", async () => {
    const db = await cdcDatabase("roles");
    const plain = `${db.name}_plain`;
    const replicator = `${db.name}_repl`;
    await psql(
      db.url,
      `CREATE TABLE t (id int PRIMARY KEY);
       DROP ROLE IF EXISTS ${plain}; DROP ROLE IF EXISTS ${replicator};
       CREATE ROLE ${plain} LOGIN PASSWORD 'secret-one';
       CREATE ROLE ${replicator} LOGIN REPLICATION PASSWORD 'secret-two';`,
    );
    const as = (role: string, password: string) => {
      const url = new URL(db.url);
      url.username = role;
      url.password = password;
      return url.toString();
    };
    const noReplication = await failure(
      cdcConfig(db, { tables: ["t"], connection_string: as(plain, "secret-one") }),
    );
    expect(noReplication.line).toBe(
      `error: postgres-cdc: role "${plain}" lacks the REPLICATION attribute: ALTER ROLE "${plain}" WITH REPLICATION (as a superuser)`,
    );
    const noSelect = await failure(
      cdcConfig(db, { tables: ["t"], connection_string: as(replicator, "secret-two") }),
    );
    expect(noSelect.line).toBe(
      `error: postgres-cdc: role "${replicator}" lacks SELECT on public.t: GRANT SELECT ON "public"."t" TO "${replicator}"`,
    );
    await psql(
      db.url,
      `DROP OWNED BY ${plain}; DROP OWNED BY ${replicator}; DROP ROLE ${plain}; DROP ROLE ${replicator};`,
    );
  }, 60_000);

  test("wrong password and connection refused, never printing the password", async () => {
    const db = await cdcDatabase("auth");
    const wrong = new URL(db.url);
    wrong.password = "not-the-password-42";
    const auth = await failure(
      cdcConfig(db, { tables: ["t"], connection_string: wrong.toString() }),
    );
    const port = wrong.port;
    expect(auth.line).toBe(
      `error: postgres-cdc: password authentication failed for user "postgres" at postgres@127.0.0.1:${port}/${db.name}; check the password in connection_string (or PGPASSWORD)`,
    );
    expect(auth.stderr).not.toContain("not-the-password-42");
    const refused = new URL(db.url);
    refused.port = "1";
    const down = await failure(
      cdcConfig(db, { tables: ["t"], connection_string: refused.toString() }),
    );
    expect(down.line).toBe(
      `error: postgres-cdc: cannot connect to postgres@127.0.0.1:1/${db.name}: connection refused; check connection_string (or PGHOST/PGPORT) and that PostgreSQL is running`,
    );
    expect(down.stderr).not.toContain("dstream-test-password");
  }, 60_000);

  test("the slot active in another process, named by its pid", async () => {
    const db = await cdcDatabase("busy");
    await psql(db.url, "CREATE TABLE t (id int PRIMARY KEY)");
    const config = cdcConfig(db, { tables: ["t"], snapshot: "never" });
    const holder = await startCdc(config);
    await eventually(
      "the slot held",
      async () =>
        (await psql(
          db.url,
          `SELECT active FROM pg_replication_slots WHERE slot_name = '${db.slot}'`,
        )) === "t",
    );
    const pid = await psql(
      db.url,
      `SELECT active_pid FROM pg_replication_slots WHERE slot_name = '${db.slot}'`,
    );
    const { line } = await failure(config);
    expect(line).toBe(
      `error: postgres-cdc: slot "${db.slot}" is active in another process (pid ${pid}): stop the other run of this task, or end that session with SELECT pg_terminate_backend(${pid})`,
    );
    await stopCdc(holder);
  }, 90_000);
});
