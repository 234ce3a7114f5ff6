// The postgres state backend against the real server: checkpoints round trip through its table, the
// run lock is a session advisory lock (one holder, named to the next; freed at release; lost when
// its connection dies), tables appear once under concurrent creation, and errors never show a password.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, connect as netConnect, type Socket } from "node:net";
import { DstreamError } from "../../../src/errors.ts";
import { openStateStore, type RunOwner, type StateStore } from "../../../src/state/index.ts";
import {
  createDatabase,
  dropDatabase,
  psql,
  psqlRows,
  uniqueDatabaseName,
} from "../providers/postgres-helpers.ts";

const databases: string[] = [];
afterAll(async () => {
  for (const name of databases) await dropDatabase(name);
});

async function freshDatabase(label: string): Promise<string> {
  const name = uniqueDatabaseName(`state_${label}`);
  databases.push(name);
  return createDatabase(name);
}

function store(url: string, names: { schema?: string; table?: string } = {}): StateStore {
  return openStateStore({
    backend: "postgres",
    connectionString: url,
    schema: names.schema ?? "public",
    table: names.table ?? "dstream_state",
  });
}

/** The URL as `where` shows it: without the password. */
const withoutPassword = (url: string) => url.replace(/:[^:@/]*@/, "@");

function owner(pid: number, host: string): RunOwner {
  return { run: crypto.randomUUID(), pid, host, since: "2026-12-07T10:00:00.000Z" };
}

async function rejection(promise: Promise<unknown>): Promise<DstreamError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DstreamError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

/** Resolves with the signal's reason once aborted; fails after `timeoutMs`. */
function abortedWithin(signal: AbortSignal, timeoutMs: number): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not aborted within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(signal.reason);
    });
  });
}

/**
 * A TCP relay to the server that can go silent: it stops passing bytes both ways but keeps every
 * socket open, as a network partition does (no FIN, no RST reaches either side).
 */
async function silenceableRelay(to: URL) {
  const sockets: Socket[] = [];
  let silent = false;
  const server = createServer((client) => {
    const upstream = netConnect(Number(to.port), to.hostname);
    sockets.push(client, upstream);
    client.on("data", (chunk) => silent || upstream.write(chunk));
    upstream.on("data", (chunk) => silent || client.write(chunk));
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      socket.on("error", () => other.destroy());
      socket.on("close", () => other.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const through = new URL(to);
  through.port = String(port);
  return {
    url: through.toString(),
    silence: () => {
      silent = true;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

let url: string;
beforeAll(async () => {
  url = await freshDatabase("main");
});

describe("checkpoints", () => {
  test("read, write, reset round trip through the table", async () => {
    const state = store(url);
    expect(state.where).toBe(withoutPassword(url));
    // No table yet: nothing committed (and nothing created by a read).
    expect(await state.read("orders")).toBeUndefined();
    expect(await psql(url, "SELECT to_regclass('public.dstream_state') IS NULL")).toBe("t");

    const committedBy = owner(11, "host-a");
    const record = {
      checkpoint: { lsn: "0/16B3748", n: 42, nested: [1, "two", null] },
      committedAt: "2026-12-07T10:00:01.234Z",
      committedBy,
    };
    await state.write("orders", record);
    expect(await state.read("orders")).toEqual(record);
    expect(await psqlRows(url, "SELECT task, checkpoint, committed_at FROM dstream_state")).toEqual(
      ['orders|{"lsn":"0/16B3748","n":42,"nested":[1,"two",null]}|2026-12-07 10:00:01.234+00'],
    );

    const newer = { ...record, checkpoint: { n: 43 }, committedAt: "2026-12-07T10:00:02.000Z" };
    await state.write("orders", newer);
    expect(await store(url).read("orders")).toEqual(newer);
    expect(await psql(url, "SELECT count(*) FROM dstream_state")).toBe("1");

    expect(await state.reset("orders")).toBe(true);
    expect(await state.read("orders")).toBeUndefined();
    expect(await state.reset("orders")).toBe(false);
  });

  test("schema and table names are honoured; both tables appear once under concurrent creation", async () => {
    const database = await freshDatabase("tables");
    const names = { schema: "pipelines", table: "checkpoints" };
    const tasks = Array.from({ length: 8 }, (_, index) => `task-${index}`);
    const locks = await Promise.all(
      tasks.map((task, index) => store(database, names).lock(task, owner(100 + index, "h"))),
    );
    expect(
      await psqlRows(
        database,
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'pipelines' ORDER BY 2",
      ),
    ).toEqual(["pipelines|checkpoints", "pipelines|checkpoints_locks"]);
    expect(await psql(database, "SELECT count(*) FROM pipelines.checkpoints_locks")).toBe("8");
    await Promise.all(locks.map((lock) => lock.release()));
    expect(await psql(database, "SELECT count(*) FROM pipelines.checkpoints_locks")).toBe("0");
  });
});

describe("the run lock", () => {
  test("a second holder fails at once naming pid, host and since; release lets the next take it", async () => {
    const first = store(url);
    const second = store(url);
    const held = await first.lock("orders", owner(4242, "host-a"));
    const rows = await psqlRows(url, "SELECT task, pid, host, since FROM dstream_state_locks");
    expect(rows).toEqual(["orders|4242|host-a|2026-12-07 10:00:00+00"]);
    expect(
      await psql(
        url,
        "SELECT count(*) FROM pg_locks l JOIN dstream_state_locks o ON o.backend_pid = l.pid WHERE l.locktype = 'advisory' AND l.granted",
      ),
    ).toBe("1");

    const refused = await rejection(second.lock("orders", owner(5353, "host-b")));
    expect(refused.code).toBe("TASK_LOCKED");
    expect(refused.exitCode).toBe(2);
    expect(refused.message).toBe(
      `task "orders" is already running: pid 4242 on host-a since 2026-12-07T10:00:00.000Z holds its lock in ${withoutPassword(url)}`,
    );
    // Another task, and the same task in another table, are other locks.
    await (await second.lock("customers", owner(5353, "host-b"))).release();
    await (await store(url, { table: "other_state" }).lock("orders", owner(1, "h"))).release();

    await held.release();
    expect(await psql(url, "SELECT count(*) FROM dstream_state_locks")).toBe("0");
    const next = await second.lock("orders", owner(5353, "host-b"));
    expect(await psqlRows(url, "SELECT pid, host FROM dstream_state_locks")).toEqual([
      "5353|host-b",
    ]);
    await next.release();
  });

  test("a lock whose connection is killed is lost: the holder is told, its writes fail, another takes it", async () => {
    const state = store(url);
    const held = await state.lock("killed", owner(9, "host-a"));
    expect(held.lost?.aborted).toBe(false);
    const [backend] = await psqlRows(
      url,
      "SELECT backend_pid FROM dstream_state_locks WHERE task = 'killed'",
    );
    expect(await psql(url, `SELECT pg_terminate_backend(${backend})`)).toBe("t");

    const reason = await abortedWithin(held.lost as AbortSignal, 15_000);
    expect(reason).toBeInstanceOf(DstreamError);
    expect((reason as DstreamError).message).toBe(
      `task "killed" lost its run lock: the connection to the state backend postgres (${withoutPassword(url)}) failed: terminating connection due to administrator command; the run stops, as another run may take the task now`,
    );
    // Never written elsewhere once the lock is gone.
    const write = state.write("killed", {
      checkpoint: { n: 2 },
      committedAt: "2026-12-07T10:00:00.000Z",
      committedBy: owner(9, "host-a"),
    });
    expect((await rejection(write)).message).toBe((reason as DstreamError).message);
    expect(await store(url).read("killed")).toBeUndefined();

    const next = await store(url).lock("killed", owner(10, "host-b"));
    await next.release();
    await held.release();
  });
});

test("a holder cut off from the server (no answer, no reset) loses its lock within a bound", async () => {
  const relay = await silenceableRelay(new URL(url));
  try {
    const state = store(relay.url);
    const held = await state.lock("partitioned", owner(12, "host-a"));
    relay.silence();
    const reason = await abortedWithin(held.lost as AbortSignal, 30_000);
    expect((reason as DstreamError).message).toBe(
      `task "partitioned" lost its run lock: the connection to the state backend postgres (${withoutPassword(relay.url)}) failed: the server did not answer within 10 s; the run stops, as another run may take the task now`,
    );
    const write = state.write("partitioned", {
      checkpoint: { n: 1 },
      committedAt: "2026-12-07T10:00:00.000Z",
      committedBy: owner(12, "host-a"),
    });
    expect((await rejection(write)).message).toBe((reason as DstreamError).message);
    await held.release(); // bounded although the server never answers the goodbye
  } finally {
    relay.close();
  }
}, 60_000);

test("no session is left open once stores are done", async () => {
  const names = databases.map((name) => `'${name}'`).join(", ");
  const open = () =>
    psql(
      url,
      `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dstream state' AND datname IN (${names})`,
    );
  // A session whose socket was just cut takes the server a moment to end.
  const deadline = performance.now() + 10_000;
  while ((await open()) !== "0" && performance.now() < deadline) await Bun.sleep(50);
  expect(await open()).toBe("0");
});

describe("errors name the backend, never the password", () => {
  const password = "dstream-test-password";

  test("authentication failed", async () => {
    const wrong = new URL(url);
    wrong.password = "Wrong-Secret-42";
    const error = await rejection(store(wrong.toString()).read("t"));
    const where = withoutPassword(url);
    expect(error.message).toBe(
      `state backend postgres (${where}): cannot connect: password authentication failed for user "postgres" (check the user and password of connection_string)`,
    );
    expect(error.exitCode).toBe(1);
    expect(JSON.stringify([error.message, String(error.cause)])).not.toContain("Wrong-Secret-42");
  });

  test("connection refused", async () => {
    const refused = new URL(url);
    refused.port = "1";
    const error = await rejection(store(refused.toString()).lock("t", owner(1, "h")));
    expect(error.message).toBe(
      `state backend postgres (${withoutPassword(refused.toString())}): cannot connect: connect ECONNREFUSED 127.0.0.1:1 (is PostgreSQL running there?)`,
    );
    expect(error.message).not.toContain(password);
  });

  test("a role without CREATE on the schema", async () => {
    const database = await freshDatabase("grants");
    const role = `dstream_reader_${process.pid}`;
    await psql(
      database,
      `DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN PASSWORD 'Reader-Secret-7'`,
    );
    const limited = new URL(database);
    limited.username = role;
    limited.password = "Reader-Secret-7";
    try {
      const error = await rejection(store(limited.toString()).lock("t", owner(1, "h")));
      expect(error.message).toBe(
        `state backend postgres (${withoutPassword(limited.toString())}): cannot lock task "t": permission denied for schema public (grant the role the privilege, or create the tables as docs/configuration.md shows)`,
      );
      expect(JSON.stringify([error.message, String(error.cause)])).not.toContain("Reader-Secret-7");
      // Reading needs no CREATE: nothing was committed.
      expect(await store(limited.toString()).read("t")).toBeUndefined();
    } finally {
      await psql(database, `DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => {});
    }
  });
});
