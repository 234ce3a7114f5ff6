// Replicate's batches reduced to their net effect: per table, the last change of each key wins,
// so a batch is one DELETE and one upsert per table (and column set), cut at every truncate.
import type { PlannedEvent, Run } from "./events.ts";

type KeyState =
  | { kind: "upsert"; index: number; columns: string }
  | { kind: "delete"; index: number };

interface TableChanges {
  run: Run;
  states: Map<string, KeyState>;
}

/**
 * The key's values as a string that equals another exactly when the keys are equal; undefined
 * when a number is past what a double holds exactly (the events are then applied one run at a time).
 */
function exactKey(values: Record<string, unknown> | undefined, key: string[]): string | undefined {
  if (!values) return undefined;
  const parts: unknown[] = [];
  for (const column of key) {
    const value = values[column];
    if (typeof value === "number" && !Number.isSafeInteger(value)) return undefined;
    if (typeof value === "object" && value !== null) return undefined;
    parts.push(value);
  }
  return JSON.stringify(parts);
}

function set(states: Map<string, KeyState>, key: string, state: KeyState): void {
  states.delete(key); // re-inserted: the map's order follows the latest change
  states.set(key, state);
}

function runsOf(changes: TableChanges): Run[] {
  const deletes: number[] = [];
  const upserts = new Map<string, number[]>();
  for (const state of changes.states.values()) {
    if (state.kind === "delete") deletes.push(state.index);
    else upserts.set(state.columns, [...(upserts.get(state.columns) ?? []), state.index]);
  }
  const base = { table: changes.run.table, key: changes.run.key, rekeys: [] };
  const runs: Run[] = [];
  if (deletes.length > 0) {
    runs.push({ ...base, action: "delete", columns: [], indexes: deletes.sort((a, b) => a - b) });
  }
  for (const [columns, indexes] of upserts) {
    runs.push({
      ...base,
      action: "upsert",
      columns: columns.split("\u0000"),
      indexes: indexes.sort((a, b) => a - b),
    });
  }
  return runs;
}

/**
 * The runs of a replicate batch (from planRuns) compacted; undefined when that is not safe (a key
 * beyond a double's precision, or one key written with different column sets).
 */
export function compactRuns(runs: Run[], events: PlannedEvent[]): Run[] | undefined {
  const byIndex = new Map(events.map((event) => [event.index, event]));
  const compacted: Run[] = [];
  let tables = new Map<string, TableChanges>();
  const flush = () => {
    for (const changes of tables.values()) compacted.push(...runsOf(changes));
    tables = new Map();
  };
  for (const run of runs) {
    if (run.action === "truncate") {
      flush();
      compacted.push(run);
      continue;
    }
    if (run.action === "insert") return undefined;
    let changes = tables.get(run.table);
    if (!changes) {
      changes = { run, states: new Map() };
      tables.set(run.table, changes);
    }
    const columns = run.columns.join("\u0000");
    for (const index of run.indexes) {
      const event = byIndex.get(index) as PlannedEvent;
      if (run.action === "delete") {
        const key = exactKey(event.before ?? event.data, run.key);
        if (key === undefined) return undefined;
        set(changes.states, key, { kind: "delete", index });
        continue;
      }
      const key = exactKey(event.data, run.key);
      if (key === undefined) return undefined;
      if (run.rekeys.includes(index)) {
        const oldKey = exactKey(event.before, run.key);
        if (oldKey === undefined) return undefined;
        if (oldKey !== key) set(changes.states, oldKey, { kind: "delete", index });
      }
      const previous = changes.states.get(key);
      if (previous?.kind === "upsert" && previous.columns !== columns) return undefined;
      set(changes.states, key, { kind: "upsert", index, columns });
    }
  }
  flush();
  return compacted;
}
