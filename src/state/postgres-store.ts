// The postgres backend: one row per task in a table of dstream's own, written in one committed
// statement; a task locked by this store is read and written through its lock's connection only.
import { DstreamError, errorCode } from "../errors.ts";
import {
  connectPostgres,
  type PostgresSession,
  type PostgresTarget,
  postgresTarget,
  stateBackendError,
} from "./postgres-connection.ts";
import { lockTaskInPostgres, type PostgresRunLock } from "./postgres-lock.ts";
import { ensureTables, type StateTables, tableNames } from "./postgres-tables.ts";
import type { RunLock, RunOwner, StateRecord, StateStore } from "./store.ts";

const UNDEFINED_TABLE = "42P01";

/** No table yet: nothing was ever committed (so `state show` needs no CREATE privilege). */
function noTableMeansNoRows(error: unknown): never[] {
  if (errorCode(error) === UNDEFINED_TABLE) return [];
  throw error;
}

type CheckpointRow = {
  checkpoint: unknown;
  committed_at: Date;
  committed_by: RunOwner;
};

export class PostgresStateStore implements StateStore {
  readonly where: string;
  private readonly target: PostgresTarget;
  /** Locks this store holds, by task: once lost, their task's writes fail rather than go elsewhere. */
  private readonly held = new Map<string, PostgresRunLock>();

  constructor(
    connectionString: string,
    private readonly tables: StateTables,
  ) {
    this.target = postgresTarget(connectionString);
    this.where = this.target.where;
  }

  async read(task: string): Promise<StateRecord | undefined> {
    const rows = await this.withSession(
      task,
      `cannot read the state of task "${task}"`,
      (session) =>
        session
          .query<CheckpointRow>(
            `SELECT checkpoint, committed_at, committed_by FROM ${this.names.checkpoints} WHERE task = $1`,
            [task],
          )
          .catch(noTableMeansNoRows),
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      checkpoint: row.checkpoint,
      committedAt: row.committed_at.toISOString(),
      committedBy: row.committed_by,
    };
  }

  async write(task: string, record: StateRecord): Promise<void> {
    await this.withSession(task, `cannot write the state of task "${task}"`, async (session) => {
      if (!this.held.has(task)) await ensureTables(session, this.tables);
      // One statement: committed (atomically, durably) when it returns.
      await session.query(
        `INSERT INTO ${this.names.checkpoints} (task, checkpoint, committed_at, committed_by)
         VALUES ($1, $2::json, $3, $4::json)
         ON CONFLICT (task) DO UPDATE SET checkpoint = EXCLUDED.checkpoint,
           committed_at = EXCLUDED.committed_at, committed_by = EXCLUDED.committed_by`,
        [
          task,
          JSON.stringify(record.checkpoint),
          record.committedAt,
          JSON.stringify(record.committedBy),
        ],
      );
    });
  }

  async reset(task: string): Promise<boolean> {
    return this.withSession(task, `cannot reset the state of task "${task}"`, async (session) => {
      const rows = await session
        .query(`DELETE FROM ${this.names.checkpoints} WHERE task = $1 RETURNING task`, [task])
        .catch(noTableMeansNoRows);
      return rows.length > 0;
    });
  }

  async lock(task: string, owner: RunOwner): Promise<RunLock> {
    const lock = await lockTaskInPostgres(this.target, this.tables, task, owner);
    this.held.set(task, lock);
    return {
      lost: lock.lost,
      release: async () => {
        this.held.delete(task);
        await lock.release();
      },
    };
  }

  private get names() {
    return tableNames(this.tables);
  }

  /**
   * Runs `work` on the task's lock connection when this store holds it (a lost lock fails it),
   * else on a connection of its own.
   */
  private async withSession<T>(
    task: string,
    doing: string,
    work: (session: PostgresSession) => Promise<T>,
  ): Promise<T> {
    const held = this.held.get(task);
    if (held) {
      if (held.lost?.aborted) throw held.lost.reason;
      return work(held.session).catch((error: unknown) => {
        throw held.lost?.aborted ? held.lost.reason : stateBackendError(this.target, doing, error);
      });
    }
    const session = await connectPostgres(this.target);
    try {
      return await work(session);
    } catch (error) {
      if (error instanceof DstreamError) throw error;
      throw stateBackendError(this.target, doing, error);
    } finally {
      await session.end();
    }
  }
}
