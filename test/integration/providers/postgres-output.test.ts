// postgres output in the compiled binary against a real server, checked with psql: insert, upsert,
// replicate (replays harmless), the types matrix, checkpoints echoed only after COMMIT, one-line
// errors (password masked), lifecycle, and `dstream run` killed with -9 then restarted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseEnv, dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { startProvider } from "./helpers.ts";
import {
  createDatabase,
  dropDatabase,
  psql,
  psqlRows,
  startPostgres,
  uniqueDatabaseName,
} from "./postgres-helpers.ts";

const password = "dstream-test-password";
let binary = "";
const databases: string[] = [];
const folders: string[] = [];

beforeAll(async () => {
  startPostgres();
  binary = await dstreamBinary();
}, 600_000);

afterAll(async () => {
  for (const name of databases) await dropDatabase(name).catch(() => {});
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A fresh database for one test, holding `ddl`. */
async function database(label: string, ddl = ""): Promise<string> {
  const name = uniqueDatabaseName(label);
  databases.push(name);
  const url = await createDatabase(name);
  if (ddl !== "") await psql(url, ddl);
  return url;
}

const ready = '{"status":"ready","protocol":2}\n';

function event(data: Record<string, unknown> | string, metadata: Record<string, unknown> = {}) {
  const body = typeof data === "string" ? data : JSON.stringify(data);
  return `{"data":${body},"metadata":${JSON.stringify(metadata)}}`;
}

function cdc(
  table: string,
  operation: string,
  sequence: number,
  data: Record<string, unknown> | null,
  before?: Record<string, unknown>,
) {
  return JSON.stringify({
    data,
    metadata: { table, operation, sequence, source: "postgres-cdc", ...(before ? { before } : {}) },
  });
}

async function runOutput(config: Record<string, unknown>, lines: string[], command = "run") {
  const firstLine =
    command === "run"
      ? JSON.stringify({ command, config, protocol: 2, checkpoint: null })
      : JSON.stringify({ command, config });
  const provider = startProvider([binary, "__provider", "postgres"], { role: "output", firstLine });
  if (lines.length > 0) provider.write(`${lines.join("\n")}\n`);
  provider.end();
  return provider.finish(120_000);
}

describe("postgres output: insert and upsert (compiled binary, real server)", () => {
  test("insert: 10,000 rows in transactions, checkpoints echoed after their rows committed", async () => {
    const url = await database("insert", "CREATE TABLE t (id bigint, name text)");
    const events = Array.from({ length: 10_000 }, (_, index) =>
      event({ id: index + 1, name: `n${index + 1}` }, { sequence: index + 1 }),
    );
    const result = await runOutput({ connection_string: url, table: "t" }, [
      ...events.slice(0, 4000),
      '{"checkpoint":{"at":4000}}',
      ...events.slice(4000),
      '{"checkpoint":{"at":10000}}',
    ]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout.startsWith(ready)).toBe(true);
    expect(result.stdout.endsWith('{"checkpoint":{"at":10000}}\n')).toBe(true);
    expect(await psqlRows(url, "SELECT count(*), count(DISTINCT id), sum(id) FROM t")).toEqual([
      "10000|10000|50005000",
    ]);
    expect(await psqlRows(url, "SELECT name FROM t WHERE id = 777")).toEqual(["n777"]);
  }, 180_000);

  test("insert: a column missing from every event keeps its default; schema-qualified table", async () => {
    const url = await database(
      "insert_default",
      "CREATE SCHEMA sales; CREATE TABLE sales.orders (id serial PRIMARY KEY, item text, qty int DEFAULT 1)",
    );
    const result = await runOutput({ connection_string: url, table: "sales.orders" }, [
      event({ item: "a" }),
      event({ item: "b" }),
    ]);
    expect(result.exitCode).toBe(0);
    expect(await psqlRows(url, "SELECT id, item, qty FROM sales.orders ORDER BY id")).toEqual([
      "1|a|1",
      "2|b|1",
    ]);
  }, 60_000);

  test("upsert: by the primary key by default; the same key twice in a batch keeps the last", async () => {
    const url = await database(
      "upsert",
      "CREATE TABLE t (id int PRIMARY KEY, name text, n int); INSERT INTO t VALUES (1, 'old', 0), (9, 'kept', 9)",
    );
    const result = await runOutput({ connection_string: url, table: "t", mode: "upsert" }, [
      event({ id: 1, name: "a", n: 1 }, { sequence: 1 }),
      event({ id: 2, name: "b", n: 2 }, { sequence: 2 }),
      event({ id: 1, name: "c", n: 3 }, { sequence: 3 }),
      '{"checkpoint":3}',
    ]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${ready}{"checkpoint":3}\n`);
    expect(await psqlRows(url, "SELECT * FROM t ORDER BY id")).toEqual([
      "1|c|3",
      "2|b|2",
      "9|kept|9",
    ]);
  }, 60_000);

  test("upsert: a batch holding each key hundreds of times ends with each key's last event", async () => {
    const url = await database(
      "upsert_repeats",
      "CREATE TABLE t (id int PRIMARY KEY, name text, n int); INSERT INTO t VALUES (3, 'old', -1)",
    );
    const keys = 7;
    const last = new Map<number, { name: string; n: number }>();
    const events = Array.from({ length: 3000 }, (_, index) => {
      const id = (index * 5) % keys;
      const previous = last.get(id);
      // Now and then an event writes n only: a second column set, so the batch is several COPY
      // runs, each holding every key many times.
      const partial = index % 500 === 250 && previous !== undefined;
      const row = partial ? { ...previous, n: index } : { name: `v${index}`, n: index };
      last.set(id, row);
      return event(partial ? { id, n: index } : { id, ...row }, { sequence: index + 1 });
    });
    const result = await runOutput(
      { connection_string: url, table: "t", mode: "upsert", batch_wait_ms: 1000 },
      [...events, '{"checkpoint":3000}'],
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${ready}{"checkpoint":3000}\n`);
    const expected = [...last]
      .sort((a, b) => a[0] - b[0])
      .map(([id, row]) => `${id}|${row.name}|${row.n}`);
    expect(await psqlRows(url, "SELECT id, name, n FROM t ORDER BY id")).toEqual(expected);
  }, 60_000);

  test("upsert: an event with fewer columns changes only those; a new row gets the defaults", async () => {
    const url = await database(
      "upsert_partial",
      "CREATE TABLE t (id int PRIMARY KEY, name text, n int NOT NULL DEFAULT 7); INSERT INTO t VALUES (1, 'old', 0)",
    );
    const result = await runOutput({ connection_string: url, table: "t", mode: "upsert" }, [
      event({ id: 1, name: "new" }),
      event({ id: 2, name: "two" }),
      event({ id: 1, n: 5 }),
      event({ id: 2, name: "deux" }),
    ]);
    expect(result.stderr).toBe("");
    expect(await psqlRows(url, "SELECT * FROM t ORDER BY id")).toEqual(["1|new|5", "2|deux|7"]);
  }, 60_000);

  test("upsert: key = [...] names the columns of a unique index", async () => {
    const url = await database(
      "upsert_key",
      "CREATE TABLE t (id serial PRIMARY KEY, email text UNIQUE, name text)",
    );
    const config = { connection_string: url, table: "t", mode: "upsert", key: ["email"] };
    const lines = [event({ email: "a@x", name: "A" }), event({ email: "b@x", name: "B" })];
    expect((await runOutput(config, lines)).exitCode).toBe(0);
    const again = await runOutput(config, [event({ email: "a@x", name: "A2" })]);
    expect(again.exitCode).toBe(0);
    expect(await psqlRows(url, "SELECT email, name FROM t ORDER BY email")).toEqual([
      "a@x|A2",
      "b@x|B",
    ]);
  }, 60_000);

  test("upsert: a table without a primary key and no key setting fails with the fix", async () => {
    const url = await database("upsert_nokey", "CREATE TABLE t (id int, name text)");
    const result = await runOutput({ connection_string: url, table: "t", mode: "upsert" }, []);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      "error: postgres: table public.t has no primary key, which upsert needs to match rows; set key = [...] to the columns of a unique index, or add a primary key\n",
    );
  }, 60_000);
});

const replicaDdl = `
CREATE TABLE orders (id bigint PRIMARY KEY, item text, qty int);
CREATE SCHEMA sales;
CREATE TABLE sales.lines (order_id bigint, line int, sku text, PRIMARY KEY (order_id, line));
`;

/** A postgres-cdc stream: inserts, updates (one moving a row to a new key), deletes, a truncate. */
function cdcStream(): string[] {
  let sequence = 0;
  const next = () => ++sequence;
  return [
    cdc("public.orders", "insert", next(), { id: 1, item: "apple", qty: 1 }),
    cdc("public.orders", "insert", next(), { id: 2, item: "pear", qty: 2 }),
    cdc("public.orders", "insert", next(), { id: 3, item: "fig", qty: 3 }),
    cdc("sales.lines", "insert", next(), { order_id: 1, line: 1, sku: "A1" }),
    cdc("sales.lines", "insert", next(), { order_id: 1, line: 2, sku: "A2" }),
    '{"checkpoint":{"lsn":"0/1"}}',
    cdc("public.orders", "update", next(), { id: 1, item: "apple", qty: 10 }),
    cdc("public.orders", "update", next(), { id: 1, item: "apple", qty: 11 }),
    cdc("public.orders", "update", next(), { id: 20, item: "pear", qty: 2 }, { id: 2 }),
    cdc("public.orders", "delete", next(), null, { id: 3 }),
    cdc("sales.lines", "update", next(), { order_id: 1, line: 2, sku: "B2" }),
    cdc("sales.lines", "delete", next(), null, { order_id: 1, line: 1 }),
    cdc("public.orders", "insert", next(), { id: 4, item: "kiwi", qty: 4 }),
    '{"checkpoint":{"lsn":"0/2"}}',
    cdc("sales.lines", "truncate", next(), null),
    cdc("sales.lines", "insert", next(), { order_id: 4, line: 1, sku: "K1" }),
    cdc("public.orders", "delete", next(), { id: 4, item: "kiwi", qty: 4 }),
    cdc("public.orders", "insert", next(), { id: 4, item: "kiwi", qty: 5 }),
    '{"checkpoint":{"lsn":"0/3"}}',
  ];
}

async function replicaState(url: string): Promise<string[]> {
  return [
    ...(await psqlRows(url, "SELECT 'orders', * FROM orders ORDER BY id")),
    ...(await psqlRows(url, "SELECT 'lines', * FROM sales.lines ORDER BY order_id, line")),
  ];
}

const expectedReplica = [
  "orders|1|apple|11",
  "orders|4|kiwi|5",
  "orders|20|pear|2",
  "lines|4|1|K1",
];

describe("postgres output: replicate (compiled binary, real server)", () => {
  test("insert, update (also of a key), delete and truncate apply to the tables of the same name", async () => {
    const url = await database("replicate", replicaDdl);
    const result = await runOutput({ connection_string: url, mode: "replicate" }, cdcStream());
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout.endsWith('{"checkpoint":{"lsn":"0/3"}}\n')).toBe(true);
    expect(await replicaState(url)).toEqual(expectedReplica);
  }, 60_000);

  test("replays are harmless: the stream again, and again from each checkpoint, gives the same replica", async () => {
    const url = await database("replay", replicaDdl);
    const stream = cdcStream();
    const config = { connection_string: url, mode: "replicate" };
    expect((await runOutput(config, stream)).exitCode).toBe(0);
    expect((await runOutput(config, stream)).exitCode).toBe(0);
    expect(await replicaState(url)).toEqual(expectedReplica);
    for (const [index, line] of stream.entries()) {
      if (!line.startsWith('{"checkpoint"')) continue;
      const replay = await runOutput(config, stream.slice(index + 1));
      expect(replay.exitCode).toBe(0);
      expect(await replicaState(url)).toEqual(expectedReplica);
    }
  }, 120_000);

  test('a replay meeting a foreign key: refused by default, applied with session_replication_role = "replica"', async () => {
    const url = await database(
      "replicate_fk_replay",
      "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent (id))",
    );
    // A child moves from parent 1 to parent 2, then parent 1 goes (other tables' events between:
    // no compaction joins the child's two changes).
    const stream = [
      cdc("public.parent", "insert", 1, { id: 1 }),
      '{"checkpoint":{"lsn":"0/1"}}',
      cdc("public.child", "insert", 2, { id: 10, parent_id: 1 }),
      cdc("public.parent", "insert", 3, { id: 2 }),
      cdc("public.child", "update", 4, { id: 10, parent_id: 2 }),
      cdc("public.parent", "delete", 5, null, { id: 1 }),
    ];
    const config = { connection_string: url, mode: "replicate" };
    const state =
      "SELECT 'parent', id, NULL FROM parent UNION ALL SELECT 'child', id, parent_id FROM child";
    expect((await runOutput(config, stream)).exitCode).toBe(0);
    expect(await psqlRows(url, state)).toEqual(["parent|2|<null>", "child|10|2"]);
    // A crash after the last line was applied, before its checkpoint was acknowledged: the events
    // after the checkpoint come again, and the child's first parent is gone from the replica.
    const replay = stream.slice(2);
    const refused = await runOutput(config, replay);
    expect(refused.exitCode).toBe(1);
    expect(await psqlRows(url, state)).toEqual(["parent|2|<null>", "child|10|2"]);
    expect(refused.stderr).toContain('foreign key constraint "child_parent_id_fkey"');
    const applied = await runOutput({ ...config, session_replication_role: "replica" }, replay);
    expect(applied.stderr).toBe("");
    expect(applied.exitCode).toBe(0);
    expect(await psqlRows(url, state)).toEqual(["parent|2|<null>", "child|10|2"]);
  }, 60_000);

  test("session_replication_role refused to the role: one line with the grant that allows it", async () => {
    const url = await database("replicate_role", "CREATE TABLE t (id int PRIMARY KEY)");
    const role = uniqueDatabaseName("role");
    await psql(url, `CREATE ROLE ${role} LOGIN PASSWORD 'role-secret'; GRANT ALL ON t TO ${role}`);
    try {
      const asRole = new URL(url);
      asRole.username = role;
      asRole.password = "role-secret";
      const result = await runOutput(
        {
          connection_string: asRole.toString(),
          mode: "replicate",
          session_replication_role: "replica",
        },
        [cdc("public.t", "insert", 1, { id: 1 })],
      );
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim()).toBe(
        `error: postgres: role "${role}" may not set session_replication_role; connect as a superuser, or on PostgreSQL 15 and later run GRANT SET ON PARAMETER session_replication_role TO "${role}"`,
      );
      expect(result.stderr).not.toContain("role-secret");
      expect(await psqlRows(url, "SELECT count(*) FROM t")).toEqual(["0"]);
    } finally {
      await psql(url, `DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  }, 60_000);

  test("a value sent for a generated column is skipped: the replica computes its own", async () => {
    const url = await database(
      "replicate_generated",
      "CREATE TABLE g (id int PRIMARY KEY, qty int, total int GENERATED ALWAYS AS (qty * 10) STORED)",
    );
    const config = { connection_string: url, mode: "replicate" };
    const copied = await runOutput(config, [
      cdc("public.g", "insert", 1, { id: 1, qty: 2, total: 999 }),
      cdc("public.g", "insert", 2, { id: 2, qty: 3, total: 999 }),
      cdc("public.g", "update", 3, { id: 1, qty: 4, total: 999 }),
    ]);
    expect(copied.stderr).toBe("");
    // Moved rows take the JSON statements instead of COPY: the same there.
    const moved = await runOutput(config, [
      cdc("public.g", "update", 4, { id: 5, qty: 5, total: 999 }, { id: 2 }),
    ]);
    expect(moved.stderr).toBe("");
    expect(await psqlRows(url, "SELECT * FROM g ORDER BY id")).toEqual(["1|4|40", "5|5|50"]);
    const inserted = await runOutput({ connection_string: url, table: "g" }, [
      event({ id: 7, qty: 1, total: 999 }),
    ]);
    expect(inserted.stderr).toBe("");
    expect(await psqlRows(url, "SELECT * FROM g WHERE id = 7")).toEqual(["7|1|10"]);
  }, 60_000);

  test("one line per batch problem: unknown operation, missing table, no primary key", async () => {
    const url = await database("replicate_errors", "CREATE TABLE nokey (id int)");
    const config = { connection_string: url, mode: "replicate" };
    const unknown = await runOutput(config, [cdc("public.nokey", "upsert", 5, { id: 1 })]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toBe(
      'error: postgres: event sequence 5: metadata.operation "upsert" is not insert, update, delete or truncate\n',
    );
    const missing = await runOutput(config, [cdc("public.gone", "insert", 6, { id: 1 })]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe(
      "error: postgres: table public.gone does not exist on the replica; create it first (for example: pg_dump --schema-only --table public.gone <source> | psql <replica>)\n",
    );
    const noKey = await runOutput(config, [cdc("public.nokey", "insert", 7, { id: 1 })]);
    expect(noKey.exitCode).toBe(1);
    expect(noKey.stderr).toBe(
      "error: postgres: table public.nokey has no primary key, which replicate needs to match rows; add a primary key to the replica table\n",
    );
  }, 60_000);
});

describe("postgres output: the types matrix (compiled binary, real server)", () => {
  const ddl = `CREATE TABLE types (
    id int PRIMARY KEY, big bigint, exact numeric, real_number double precision, flag boolean,
    doc json, docb jsonb, ints int[], words text[], raw bytea, at timestamptz, local timestamp,
    day date, uid uuid, note text)`;
  // Written as postgres-cdc writes them: numbers with all their digits, bytea as base64.
  const rows = [
    `{"id":1,"big":9223372036854775807,"exact":123456789012345678901234567890.123456789012345,"real_number":1.5,"flag":true,"doc":{"b":[1,2],"a":"x"},"docb":{"n":12345678901234567890,"s":"é"},"ints":[1,-2,3],"words":["a","b,c","\\"q\\""],"raw":"AAEC/w==","at":"2024-02-29T23:59:59.123456Z","local":"2024-02-29T10:00:00","day":"2024-02-29","uid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","note":"line\\nbreak"}`,
    `{"id":2,"big":-9223372036854775808,"exact":-0.000000000000000000001,"real_number":-2e-10,"flag":false,"doc":[],"docb":"text","ints":[],"words":[],"raw":"","at":"2024-01-01T00:00:00+02:00","local":"2024-01-01T00:00:00.5","day":"1999-12-31","uid":"00000000-0000-0000-0000-000000000000","note":""}`,
    `{"id":3,"big":null,"exact":null,"real_number":null,"flag":null,"doc":null,"docb":null,"ints":null,"words":null,"raw":null,"at":null,"local":null,"day":null,"uid":null,"note":null}`,
  ];
  const expected = [
    '1|9223372036854775807|123456789012345678901234567890.123456789012345|1.5|t|{"b":[1,2],"a":"x"}|{"n": 12345678901234567890, "s": "é"}|{1,-2,3}|{a,"b,c","\\"q\\""}|\\x000102ff|2024-02-29 23:59:59.123456+00|2024-02-29 10:00:00|2024-02-29|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|line\nbreak',
    '2|-9223372036854775808|-0.000000000000000000001|-2e-10|f|[]|"text"|{}|{}|\\x|2023-12-31 22:00:00+00|2024-01-01 00:00:00.5|1999-12-31|00000000-0000-0000-0000-000000000000|',
    "3|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>",
  ];

  // COPY (insert, upsert, replicate) and the JSON statements (replicate one change at a time,
  // which a key written with two column sets forces) must store the same values.
  const variants = [
    ["insert", "insert"],
    ["upsert", "upsert"],
    ["replicate", "replicate (compacted, COPY)"],
    ["replicate", "replicate (change by change, JSON statements)"],
  ] as const;
  for (const [mode, label] of variants) {
    test(`${label}: every value arrives exactly (int8 and numeric digits, json, arrays, bytea, times, null)`, async () => {
      const url = await database(`types_${label.length}_${mode}`, `${ddl}; SET TIME ZONE 'UTC'`);
      const byChange = label.includes("change by change");
      // Updates carrying metadata.before take the JSON statements (the old key is checked there).
      const lines = rows.map((row, index) =>
        mode === "replicate"
          ? `{"data":${row},"metadata":{"table":"public.types","operation":${byChange ? `"update","before":{"id":${index + 1}}` : '"insert"'},"sequence":${index + 1}}}`
          : event(row, { sequence: index + 1 }),
      );
      if (byChange) {
        lines.push(
          '{"data":{"id":1,"note":"line\\nbreak"},"metadata":{"table":"public.types","operation":"update","sequence":4}}',
        );
      }
      const config =
        mode === "replicate"
          ? { connection_string: url, mode }
          : { connection_string: url, table: "types", mode };
      const result = await runOutput(config, lines);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      const output = await psql(url, "SET TIME ZONE 'UTC'; SELECT * FROM types ORDER BY id", [
        "-P",
        "null=<null>",
      ]);
      expect(output.split("\n").filter((line) => line !== "SET")).toEqual(
        expected.flatMap((row) => row.split("\n")),
      );
    }, 60_000);
  }
});

describe("postgres output: errors are one line, name table, column and sequence, ack nothing", () => {
  test("a constraint error fails the task, exit 1; its batch is rolled back and its checkpoint never echoed", async () => {
    const url = await database(
      "constraint",
      "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)",
    );
    const result = await runOutput({ connection_string: url, table: "t" }, [
      event({ id: 1, name: "a" }, { sequence: 1 }),
      event({ id: 2, name: "b" }, { sequence: 2 }),
      event({ id: 3, name: null }, { sequence: 3 }),
      event({ id: 4, name: "d" }, { sequence: 4 }),
      '{"checkpoint":4}',
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(ready);
    expect(result.stderr).toBe(
      'error: postgres: table public.t, column "name", event sequence 3: null value in column "name" of relation "t" violates not-null constraint (Failing row contains (3, null).)\n',
    );
    expect(await psqlRows(url, "SELECT count(*) FROM t")).toEqual(["0"]);
  }, 60_000);

  for (const mode of ["insert", "replicate"] as const) {
    test(`${mode}: a refused batch fails the task at once, while stdin stays open with nothing more`, async () => {
      // insert: a duplicate key; replicate (upserts): a new row without its NOT NULL column.
      const url = await database(
        `refused_idle_${mode}`,
        "CREATE TABLE t (id int PRIMARY KEY, note text NOT NULL); INSERT INTO t VALUES (1, 'x')",
      );
      const config =
        mode === "insert"
          ? { connection_string: url, table: "t" }
          : { connection_string: url, mode: "replicate" };
      const line =
        mode === "insert"
          ? event({ id: 1, note: "y" }, { sequence: 1 })
          : cdc("public.t", "insert", 1, { id: 2 });
      const firstLine = JSON.stringify({ command: "run", config, protocol: 2, checkpoint: null });
      const provider = startProvider([binary, "__provider", "postgres"], {
        role: "output",
        firstLine,
      });
      provider.write(`${line}\n{"checkpoint":1}\n`);
      // stdin is never closed: the failure alone must end the run.
      const result = await provider.finish(10_000);
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toBe(ready);
      expect(result.stderr).toContain("event sequence 1");
    }, 60_000);
  }

  test("a duplicate key names the key's column; a value of the wrong type names its column", async () => {
    const url = await database(
      "type_error",
      "CREATE TABLE t (id int PRIMARY KEY, qty int, at date); CREATE TABLE b (id int, raw bytea)",
    );
    await psql(url, "INSERT INTO t VALUES (1, 1, '2024-01-01')");
    const duplicate = await runOutput({ connection_string: url, table: "t" }, [
      event({ id: 2, qty: 2 }, { sequence: 41 }),
      event({ id: 1, qty: 1 }, { sequence: 42 }),
    ]);
    expect(duplicate.exitCode).toBe(1);
    expect(duplicate.stderr).toBe(
      'error: postgres: table public.t, column "id", event sequence 42: duplicate key value violates unique constraint "t_pkey" (Key (id)=(1) already exists.)\n',
    );
    const wrongType = await runOutput({ connection_string: url, table: "t", mode: "upsert" }, [
      event({ id: 5, qty: 5, at: "2024-01-05" }, { sequence: 7 }),
      event({ id: 6, qty: "six", at: "2024-01-06" }, { sequence: 8 }),
    ]);
    expect(wrongType.exitCode).toBe(1);
    expect(wrongType.stderr).toBe(
      'error: postgres: table public.t, column "qty", event sequence 8: invalid input syntax for type integer: "six"\n',
    );
    const notBase64 = await runOutput({ connection_string: url, table: "b" }, [
      event({ id: 1, raw: "AAEC" }, { sequence: 10 }),
      event({ id: 2, raw: "not base64!" }, { sequence: 11 }),
    ]);
    expect(notBase64.exitCode).toBe(1);
    expect(notBase64.stderr).toBe(
      'error: postgres: table public.b, column "raw", event sequence 11: invalid symbol "!" found while decoding base64 sequence\n',
    );
    const unknownColumn = await runOutput({ connection_string: url, table: "t" }, [
      event({ id: 9, colour: "red" }, { sequence: 9 }),
    ]);
    expect(unknownColumn.stderr).toBe(
      'error: postgres: table public.t, column "colour", event sequence 9: the table has no such column\n',
    );
    expect(await psqlRows(url, "SELECT id FROM t ORDER BY id")).toEqual(["1"]);
  }, 60_000);

  test("a wrong password: one line, the password masked everywhere", async () => {
    const url = new URL(await database("auth"));
    url.password = "wrong-Secret%pass";
    const result = await runOutput({ connection_string: url.toString(), table: "t" }, []);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: postgres: authentication failed at 127.0.0.1:${url.port}${url.pathname} as "postgres"; check the user and password of connection_string (or PGUSER, PGPASSWORD)\n`,
    );
    expect(`${result.stdout}${result.stderr}`).not.toContain("Secret");
    const status = await runOutput({ connection_string: url.toString(), table: "t" }, [], "status");
    expect(status.exitCode).toBe(1);
    expect(status.stdout).not.toContain("Secret");
    expect(status.stdout).toContain("authentication failed");
  }, 60_000);

  test("connection refused: one line naming where, without the password", async () => {
    const url = `postgres://postgres:${password}@127.0.0.1:9/postgres`;
    const result = await runOutput({ connection_string: url, table: "t" }, []);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: postgres: cannot connect to 127.0.0.1:9/postgres as "postgres" (ECONNREFUSED); check connection_string and that PostgreSQL is running\n',
    );
    expect(result.stderr).not.toContain(password);
  }, 60_000);

  test("the connection killed mid-run: one line, exit 1, what followed never acknowledged", async () => {
    const url = await database("terminated", "CREATE TABLE t (id int PRIMARY KEY)");
    const provider = startProvider([binary, "__provider", "postgres"], {
      role: "output",
      firstLine: JSON.stringify({
        command: "run",
        config: { connection_string: url, table: "t", mode: "upsert" },
        protocol: 2,
        checkpoint: null,
      }),
    });
    provider.write(`${event({ id: 1 })}\n{"checkpoint":1}\n`);
    await provider.waitForLines(2, 60_000);
    await psql(
      url,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dstream' AND datname = current_database()",
    );
    provider.write(`${event({ id: 2 })}\n{"checkpoint":2}\n`);
    provider.end();
    const result = await provider.finish(60_000);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(`${ready}{"checkpoint":1}\n`);
    expect(result.stderr).toMatch(
      /^error: postgres: cannot write at 127\.0\.0\.1:\d+\/\w+ as "postgres": .+\n$/,
    );
    expect(await psqlRows(url, "SELECT id FROM t")).toEqual(["1"]);
  }, 60_000);

  test("a missing table: one line with the fix", async () => {
    const url = await database("missing");
    const result = await runOutput({ connection_string: url, table: "orders" }, []);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: postgres: table public.orders does not exist; create it, or declare columns { name = "type" } and run dstream init\n',
    );
  }, 60_000);

  test("the libpq PG* variables work without connection_string", async () => {
    const url = new URL(await database("pgenv", "CREATE TABLE t (id int)"));
    // Run by hand: startProvider gives the child no variables of ours.
    const child = Bun.spawn([binary, "__provider", "postgres"], {
      env: {
        ...baseEnv(),
        DSTREAM_ROLE: "output",
        PGHOST: url.hostname,
        PGPORT: url.port,
        PGUSER: "postgres",
        PGPASSWORD: password,
        PGDATABASE: url.pathname.slice(1),
      },
      stdin: new TextEncoder().encode(
        `${JSON.stringify({ command: "run", config: { table: "t" }, protocol: 2 })}\n{"data":{"id":7}}\n`,
      ),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await child.exited).toBe(0);
    expect(await psqlRows(url.toString(), "SELECT id FROM t")).toEqual(["7"]);
  }, 60_000);
});

describe("postgres output: lifecycle (compiled binary, real server)", () => {
  test("plan shows the DDL, init creates the table, status counts its rows, destroy keeps it", async () => {
    const url = await database("lifecycle");
    const config = {
      connection_string: url,
      table: "events",
      mode: "upsert",
      key: ["id"],
      columns: { id: "bigint", payload: "jsonb", at: "timestamptz" },
    };
    const ddl =
      'CREATE TABLE "public"."events" ("id" bigint, "payload" jsonb, "at" timestamptz, PRIMARY KEY ("id"))';
    const line = (status: string, message: string, resources: unknown[] = []) =>
      `${JSON.stringify({ status, message, resources })}\n`;
    const table = [{ type: "postgres_table", name: "public.events" }];

    const planned = await runOutput(config, [], "plan");
    expect(planned.stdout).toBe(line("Success", `init would run: ${ddl}`));
    const status = await runOutput(config, [], "status");
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toBe(
      line("Failed", "table public.events does not exist (dstream init creates it)"),
    );
    const created = await runOutput(config, [], "init");
    expect(created.stdout).toBe(line("Success", `created table public.events: ${ddl}`, table));
    const again = await runOutput(config, [], "init");
    expect(again.stdout).toBe(line("Success", "table public.events already exists", table));
    expect((await runOutput(config, [], "plan")).stdout).toBe(
      line("Success", "table public.events exists"),
    );
    await runOutput(config, [event({ id: 1, payload: { a: 1 }, at: "2024-01-01T00:00:00Z" })]);
    expect((await runOutput(config, [], "status")).stdout).toBe(
      line("Success", "table public.events: 1 rows", [{ ...table[0], rows: 1 }]),
    );
    const destroyed = await runOutput(config, [], "destroy");
    expect(destroyed.stdout).toBe(
      line(
        "Success",
        'left table public.events (1 rows) in place: destroy never drops a table that holds data; drop it yourself with DROP TABLE "public"."events"',
      ),
    );
    expect(await psqlRows(url, "SELECT id FROM events")).toEqual(["1"]);
  }, 120_000);

  test("init without columns for a missing table fails saying what to declare", async () => {
    const url = await database("lifecycle_nocolumns");
    const result = await runOutput({ connection_string: url, table: "t" }, [], "init");
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(
      `${JSON.stringify({
        status: "Failed",
        message:
          'table public.t does not exist and no columns are declared; create it, or declare columns { name = "type" } so that dstream init creates it',
        resources: [],
      })}\n`,
    );
  }, 60_000);
});

describe("counter -> postgres through dstream run (compiled binary)", () => {
  const COUNT = 3000;

  function taskFolder(url: string, mode: string): string {
    const folder = mkdtempSync(join(tmpdir(), "dstream-postgres-run-"));
    folders.push(folder);
    writeFileSync(
      join(folder, "dstream.hcl"),
      `task "t" {
  input {
    provider = "counter"
    config {
      interval = 2
      maxCount = ${COUNT}
    }
  }
  output {
    provider = "postgres"
    config {
      connection_string = "${url}"
      table             = "counted"
      mode              = "${mode}"
    }
  }
}
`,
    );
    return folder;
  }

  async function rowCount(url: string): Promise<number> {
    return Number((await psqlRows(url, "SELECT count(*) FROM counted"))[0]);
  }

  test("kill -9 mid-run, then a restart (upsert): every row present, none twice", async () => {
    const url = await database(
      "run_kill",
      "CREATE TABLE counted (value bigint PRIMARY KEY, timestamp timestamptz)",
    );
    const folder = taskFolder(url, "upsert");
    const child = Bun.spawn([binary, "run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      env: baseEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const deadline = Date.now() + 60_000;
    while ((await rowCount(url)) < 500 && Date.now() < deadline) await Bun.sleep(100);
    child.kill("SIGKILL");
    expect(await child.exited).not.toBe(0);
    const partial = await rowCount(url);
    expect(partial).toBeGreaterThanOrEqual(500);
    expect(partial).toBeLessThan(COUNT);
    const second = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      timeoutMs: 120_000,
    });
    expect(second.stderr).not.toContain("error");
    expect(second.exitCode).toBe(0);
    expect(
      await psqlRows(
        url,
        "SELECT count(*), count(DISTINCT value), min(value), max(value) FROM counted",
      ),
    ).toEqual([`${COUNT}|${COUNT}|1|${COUNT}`]);
  }, 240_000);

  test("a clean stop mid-run, then a restart (insert, primary key): every row exactly once", async () => {
    const url = await database(
      "run_stop",
      "CREATE TABLE counted (value bigint PRIMARY KEY, timestamp timestamptz)",
    );
    const folder = taskFolder(url, "insert");
    const child = Bun.spawn([binary, "run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      env: baseEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const deadline = Date.now() + 60_000;
    while ((await rowCount(url)) < 500 && Date.now() < deadline) await Bun.sleep(100);
    child.kill("SIGTERM");
    const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    expect(stderr).not.toContain("error");
    expect(exitCode).toBe(0);
    expect(await rowCount(url)).toBeLessThan(COUNT);
    // A row written twice would fail the restart with a duplicate key.
    const second = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      timeoutMs: 120_000,
    });
    expect(second.stderr).not.toContain("error");
    expect(second.exitCode).toBe(0);
    expect(await psqlRows(url, "SELECT count(*), min(value), max(value) FROM counted")).toEqual([
      `${COUNT}|1|${COUNT}`,
    ]);
  }, 240_000);
});

describe("postgres-cdc events from a file -> postgres replicate through dstream run", () => {
  const ROWS = 60_000;

  /** Inserts 1..ROWS; every 10th row updated later, every 7th deleted later; and the end state. */
  function changes(): { lines: string[]; expected: string[] } {
    const lines: string[] = [];
    const rows = new Map<number, string>();
    let sequence = 0;
    const change = (operation: string, data: unknown, before?: unknown) =>
      lines.push(
        cdc(
          "public.items",
          operation,
          ++sequence,
          data as Record<string, unknown>,
          before as Record<string, unknown>,
        ),
      );
    for (let id = 1; id <= ROWS; id++) {
      change("insert", { id, label: `item ${id}` });
      rows.set(id, `item ${id}`);
      if (id % 10 === 0) {
        change("update", { id: id - 5, label: `changed ${id - 5}` });
        rows.set(id - 5, `changed ${id - 5}`);
      }
      if (id % 7 === 0) {
        change("delete", null, { id: id - 3 });
        rows.delete(id - 3);
      }
    }
    const expected = [...rows].sort((a, b) => a[0] - b[0]).map(([id, label]) => `${id}|${label}`);
    return { lines, expected };
  }

  test("kill -9 mid-run, then a restart: the replica equals the source's end state", async () => {
    const url = await database(
      "replicate_kill",
      "CREATE TABLE items (id bigint PRIMARY KEY, label text)",
    );
    const folder = mkdtempSync(join(tmpdir(), "dstream-postgres-replicate-"));
    folders.push(folder);
    const { lines, expected } = changes();
    writeFileSync(join(folder, "changes.jsonl"), `${lines.join("\n")}\n`);
    writeFileSync(
      join(folder, "dstream.hcl"),
      `task "t" {
  input {
    provider = "file"
    config {
      path   = "${join(folder, "changes.jsonl")}"
      format = "raw"
    }
  }
  output {
    provider = "postgres"
    config {
      connection_string = "${url}"
      mode              = "replicate"
      batch_rows        = 500
    }
  }
}
`,
    );
    const child = Bun.spawn([binary, "run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      env: baseEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const deadline = Date.now() + 60_000;
    const count = async () => Number((await psqlRows(url, "SELECT count(*) FROM items"))[0]);
    while ((await count()) < 1000 && Date.now() < deadline && child.exitCode === null) {
      await Bun.sleep(20);
    }
    child.kill("SIGKILL");
    await child.exited;
    const second = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      timeoutMs: 120_000,
    });
    expect(second.stderr).not.toContain("error");
    expect(second.exitCode).toBe(0);
    expect(await psqlRows(url, "SELECT id, label FROM items ORDER BY id")).toEqual(expected);
  }, 240_000);
});
