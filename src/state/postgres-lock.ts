// A task's run lock in the postgres backend: a session-level advisory lock on a connection held for
// the whole run. The lock is the truth; a row in `<table>_locks` only describes its owner.
import { DstreamError, ExitCode } from "../errors.ts";
import {
  connectPostgres,
  describePostgresError,
  type PostgresSession,
  type PostgresTarget,
  stateBackendError,
} from "./postgres-connection.ts";
import { ensureTables, type StateTables, tableNames, taskLockKey } from "./postgres-tables.ts";
import type { RunLock, RunOwner } from "./store.ts";

/** How often a held lock's connection is checked, and how long the check may take. */
const HEARTBEAT_MS = 5000;
const HEARTBEAT_TIMEOUT_MS = 10_000;
/** A holder that has just taken the lock may not have written its owner row yet: ask again. */
const HOLDER_ATTEMPTS = 20;
const HOLDER_RETRY_MS = 100;

export interface PostgresRunLock extends RunLock {
  /** The connection holding the lock: the task's reads and writes go through it (fenced). */
  session: PostgresSession;
}

interface Holder {
  backendPid?: number;
  owner?: Pick<RunOwner, "pid" | "host" | "since">;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function lockTaskInPostgres(
  target: PostgresTarget,
  tables: StateTables,
  task: string,
  owner: RunOwner,
): Promise<PostgresRunLock> {
  const session = await connectPostgres(target);
  const key = taskLockKey(tables, task);
  try {
    await ensureTables(session, tables);
    for (let attempt = 1; ; attempt++) {
      const [row] = await session.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_lock($1::bigint) AS locked",
        [key],
      );
      if (row?.locked) break;
      const holder = await findHolder(session, tables, task, key);
      if (holder.owner || attempt >= HOLDER_ATTEMPTS) throw lockedError(task, target, holder);
      await sleep(HOLDER_RETRY_MS);
    }
    await session.query(
      `INSERT INTO ${tableNames(tables).locks} (task, run, pid, host, since, backend_pid)
       VALUES ($1, $2, $3, $4, $5, pg_backend_pid())
       ON CONFLICT (task) DO UPDATE SET run = EXCLUDED.run, pid = EXCLUDED.pid,
         host = EXCLUDED.host, since = EXCLUDED.since, backend_pid = EXCLUDED.backend_pid`,
      [task, owner.run, owner.pid, owner.host, owner.since],
    );
  } catch (error) {
    await session.end();
    if (error instanceof DstreamError) throw error;
    throw stateBackendError(target, `cannot lock task "${task}"`, error);
  }
  return holdLock(session, target, tables, task, owner, key);
}

/** Watches the held lock's connection; its loss aborts `lost` so the run stops. */
function holdLock(
  session: PostgresSession,
  target: PostgresTarget,
  tables: StateTables,
  task: string,
  owner: RunOwner,
  key: string,
): PostgresRunLock {
  const lost = new AbortController();
  let released = false;
  session.onFailure((error) => {
    if (released || lost.signal.aborted) return;
    lost.abort(
      new DstreamError(
        "STATE",
        `task "${task}" lost its run lock: the connection to the state backend postgres (${target.where}) failed: ${describePostgresError(error, target)}; the run stops, as another run may take the task now`,
      ),
    );
  });
  let checking = false;
  const heartbeat = setInterval(() => {
    if (checking) return;
    checking = true;
    session
      .check(HEARTBEAT_TIMEOUT_MS)
      .catch(() => {}) // the session reports its own failure to the listener above
      .finally(() => {
        checking = false;
      });
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    session,
    lost: lost.signal,
    async release() {
      released = true;
      clearInterval(heartbeat);
      if (!lost.signal.aborted) {
        // The session's end frees the lock anyway; the row goes first so it never describes a stranger.
        await session
          .query(`DELETE FROM ${tableNames(tables).locks} WHERE task = $1 AND run = $2`, [
            task,
            owner.run,
          ])
          .then(() => session.query("SELECT pg_advisory_unlock($1::bigint)", [key]))
          .catch(() => {});
      }
      await session.end();
    },
  };
}

/** The session holding the task's advisory lock, and the owner row it wrote (when it has). */
async function findHolder(
  session: PostgresSession,
  tables: StateTables,
  task: string,
  key: string,
): Promise<Holder> {
  const [row] = await session.query<{
    backend_pid: number;
    pid: number | null;
    host: string | null;
    since: Date | null;
  }>(
    `SELECT l.pid AS backend_pid, o.pid, o.host, o.since
     FROM pg_locks l
     LEFT JOIN ${tableNames(tables).locks} o ON o.task = $1 AND o.backend_pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = (($2::bigint >> 32) & 4294967295)::oid
       AND l.objid = ($2::bigint & 4294967295)::oid`,
    [task, key],
  );
  if (!row) return {};
  if (row.pid === null || row.host === null || row.since === null) {
    return { backendPid: row.backend_pid };
  }
  return {
    backendPid: row.backend_pid,
    owner: { pid: row.pid, host: row.host, since: row.since.toISOString() },
  };
}

function lockedError(task: string, target: PostgresTarget, holder: Holder): DstreamError {
  const who = holder.owner
    ? `pid ${holder.owner.pid} on ${holder.owner.host} since ${holder.owner.since}`
    : holder.backendPid !== undefined
      ? `PostgreSQL session ${holder.backendPid} (its owner is not recorded)`
      : "another run";
  return new DstreamError(
    "TASK_LOCKED",
    `task "${task}" is already running: ${who} holds its lock in ${target.where}`,
    { exitCode: ExitCode.usage },
  );
}
