// What every checkpoint store offers the runtime and the `dstream state` commands.

/** Who committed a checkpoint, or holds a task's run lock. */
export interface RunOwner {
  /** Random per run, so two runs of one pid (after a restart) are told apart. */
  run: string;
  pid: number;
  host: string;
  /** When the run started (ISO 8601). */
  since: string;
}

/** A task's committed checkpoint: the input's resume point, and when and by which run it was committed. */
export interface StateRecord {
  checkpoint: unknown;
  committedAt: string;
  committedBy: RunOwner;
}

/** Held by a run for its whole life; released when it ends. */
export interface RunLock {
  release(): Promise<void>;
  /**
   * Aborted (its reason a DstreamError) when the lock is lost while held: the postgres backend's
   * lock connection died, and another run may take the task. The run must stop. File locks are
   * never lost.
   */
  readonly lost?: AbortSignal;
}

/**
 * A checkpoint store. Writes are atomic and durable when they resolve (a power cut leaves the old
 * record or the new one, never a torn one). The file backend is the default; a PostgreSQL backend
 * shares it (a table, and a session advisory lock as the run lock).
 */
export interface StateStore {
  /** Where it is, for messages (a folder, a database without its password). */
  readonly where: string;
  read(task: string): Promise<StateRecord | undefined>;
  write(task: string, record: StateRecord): Promise<void>;
  /** Removes the task's checkpoint; false when there was none. */
  reset(task: string): Promise<boolean>;
  /** Takes the task's run lock, or fails at once naming who holds it (exit 2). */
  lock(task: string, owner: RunOwner): Promise<RunLock>;
}
