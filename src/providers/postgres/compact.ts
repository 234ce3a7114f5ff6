// Replicate's batches reduced to their net effect, one stretch of consecutive events of one table
// at a time: the last change of each key wins, so a stretch is one DELETE and one upsert. Stretches
// and truncates keep their stream order, so foreign keys between tables hold as at the source.
import { exactKey, type PlannedEvent, type Run } from "./events.ts";

type KeyState =
  | { kind: "upsert"; index: number; columns: string }
  | { kind: "delete"; index: number };

function set(states: Map<string, KeyState>, key: string, state: KeyState): void {
  states.delete(key); // re-inserted: the map's order follows the latest change
  states.set(key, state);
}

function runsOf(first: Run, states: Map<string, KeyState>): Run[] {
  const deletes: number[] = [];
  const upserts = new Map<string, number[]>();
  for (const state of states.values()) {
    if (state.kind === "delete") deletes.push(state.index);
    else {
      const indexes = upserts.get(state.columns);
      if (indexes) indexes.push(state.index);
      else upserts.set(state.columns, [state.index]);
    }
  }
  const base = { table: first.table, key: first.key, rekeys: [] };
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
 * The net effect of runs of one table (deletes, then upserts); undefined when that is not safe: a
 * key beyond a double's precision, one key written with different column sets, or a row moved to
 * a new key (applied in order instead, so a foreign key's ON UPDATE CASCADE sees the move).
 */
function compactStretch(runs: Run[], byIndex: Map<number, PlannedEvent>): Run[] | undefined {
  if (runs.length < 2) return undefined;
  const states = new Map<string, KeyState>();
  for (const run of runs) {
    if (run.rekeys.length > 0) return undefined;
    const columns = run.columns.join("\u0000");
    for (const index of run.indexes) {
      const event = byIndex.get(index) as PlannedEvent;
      const key = exactKey(
        run.action === "delete" ? (event.before ?? event.data) : event.data,
        run.key,
      );
      if (key === undefined) return undefined;
      if (run.action === "delete") {
        set(states, key, { kind: "delete", index });
        continue;
      }
      const previous = states.get(key);
      if (previous?.kind === "upsert" && previous.columns !== columns) return undefined;
      set(states, key, { kind: "upsert", index, columns });
    }
  }
  return runsOf(runs[0] as Run, states);
}

/** The runs of a replicate batch (from planRuns), each stretch of one table compacted when safe. */
export function compactRuns(runs: Run[], events: PlannedEvent[]): Run[] {
  const byIndex = new Map(events.map((event) => [event.index, event]));
  const compacted: Run[] = [];
  let stretch: Run[] = [];
  const flush = () => {
    compacted.push(...(compactStretch(stretch, byIndex) ?? stretch));
    stretch = [];
  };
  for (const run of runs) {
    if (run.action !== "upsert" && run.action !== "delete") {
      flush();
      compacted.push(run);
      continue;
    }
    if (stretch.length > 0 && stretch[0]?.table !== run.table) flush();
    stretch.push(run);
  }
  flush();
  return compacted;
}
