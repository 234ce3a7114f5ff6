// Checkpoint stores and the per-task run lock: the state layer's public face.
import { hostname } from "node:os";
import { DstreamError } from "../errors.ts";
import { FileStateStore } from "./file-store.ts";
import { PostgresStateStore } from "./postgres-store.ts";
import type { RunOwner, StateStore } from "./store.ts";

export { resetState, type StateView, setState, showState } from "./operations.ts";
export type { RunLock, RunOwner, StateRecord, StateStore } from "./store.ts";

/** Where a config's state lives: the `state { }` block's settings (config's StateSettings). */
export type StateLocation =
  | { backend: "file"; path: string }
  | {
      backend: "postgres";
      connectionString: string;
      schema: string;
      table: string;
      /** connection_string could not be rendered (an unset env var): the store cannot open. */
      connectionProblem?: string;
    };

export function openStateStore(location: StateLocation): StateStore {
  switch (location.backend) {
    case "file":
      return new FileStateStore(location.path);
    case "postgres":
      if (location.connectionProblem) {
        throw new DstreamError("CONFIG_INVALID", location.connectionProblem);
      }
      return new PostgresStateStore(location.connectionString, location);
    default: {
      const unknown: never = location;
      throw new Error(`unknown state backend ${JSON.stringify(unknown)}`);
    }
  }
}

/** This process as the owner of a run. */
export function currentRunOwner(now = new Date()): RunOwner {
  return { run: crypto.randomUUID(), pid: process.pid, host: hostname(), since: now.toISOString() };
}
