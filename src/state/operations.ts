// What `dstream state show|reset|set` do: read a task's checkpoint, or change it while holding the
// task's run lock (so never under a running pipeline).
import { DstreamError } from "../errors.ts";
import { currentRunOwner, openStateStore, type StateLocation } from "./index.ts";
import type { StateRecord } from "./store.ts";

export interface StateView {
  task: string;
  checkpoint: unknown;
  committed_at?: string;
  committed_by?: StateRecord["committedBy"];
  store: string;
}

export async function showState(location: StateLocation, task: string): Promise<StateView> {
  const store = openStateStore(location);
  const record = await store.read(task);
  if (!record) return { task, checkpoint: null, store: store.where };
  return {
    task,
    checkpoint: record.checkpoint,
    committed_at: record.committedAt,
    committed_by: record.committedBy,
    store: store.where,
  };
}

/** Removes the task's checkpoint: its next run starts from the beginning. False when it had none. */
export async function resetState(location: StateLocation, task: string): Promise<boolean> {
  const store = openStateStore(location);
  const lock = await store.lock(task, currentRunOwner());
  try {
    return await store.reset(task);
  } finally {
    await lock.release();
  }
}

/** Sets the task's checkpoint (an operator moving a pipeline): its next run resumes after it. */
export async function setState(location: StateLocation, task: string, json: string): Promise<void> {
  let checkpoint: unknown;
  try {
    checkpoint = JSON.parse(json);
  } catch {
    throw new DstreamError(
      "USAGE",
      `the checkpoint for task "${task}" is not JSON: ${JSON.stringify(json.slice(0, 80))}`,
    );
  }
  const store = openStateStore(location);
  const owner = currentRunOwner();
  const lock = await store.lock(task, owner);
  try {
    await store.write(task, {
      checkpoint,
      committedAt: new Date().toISOString(),
      committedBy: owner,
    });
  } finally {
    await lock.release();
  }
}
