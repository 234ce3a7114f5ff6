// Applies a batch's runs in one transaction; when the server refuses, finds the event and the
// column it refused and says so in one line (table, column, metadata.sequence).
import type pg from "pg";
import { collapseWhitespace } from "../../one-line.ts";
import { EventError, isConnectionLoss, serverError } from "./errors.ts";
import type { PlannedEvent, Run } from "./events.ts";
import {
  deleteStatement,
  eventsParameter,
  moveStatement,
  quoteLiteral,
  rekeyStatement,
  truncateStatement,
  valueExpression,
  writeStatement,
} from "./statements.ts";
import { displayName, qualifiedName, type TableInfo } from "./tables.ts";

/** The statements of one run, each with the batch lines it reads. */
function statementsOf(
  tables: Map<string, TableInfo>,
  run: Run,
): { sql: string; indexes: number[] }[] {
  const info = tables.get(run.table) as TableInfo;
  switch (run.action) {
    case "insert":
      return [{ sql: writeStatement(info, run), indexes: run.indexes }];
    case "upsert": {
      // A moved row: UPDATE it to its new key, delete what is left under the old key, upsert.
      const move =
        run.rekeys.length > 0
          ? [
              { sql: moveStatement(info, run), indexes: run.rekeys },
              { sql: rekeyStatement(info, run), indexes: run.rekeys },
            ]
          : [];
      return [...move, { sql: writeStatement(info, run), indexes: run.indexes }];
    }
    case "delete":
      return [{ sql: deleteStatement(info, run), indexes: run.indexes }];
    case "truncate": {
      const truncate = run.truncate ?? {
        tables: [run.table],
        cascade: false,
        restartIdentity: false,
      };
      const infos = truncate.tables.map((table) => tables.get(table) as TableInfo);
      return [{ sql: truncateStatement(infos, truncate), indexes: [] }];
    }
    default:
      throw new Error(`unknown action ${run.action satisfies never}`);
  }
}

/** Named (prepared) statements: the server parses and plans each distinct SQL text once. */
const statementNames = new Map<string, string>();
const maxNamedStatements = 500;

function namedQuery(sql: string, values: Buffer[]): pg.QueryConfig<Buffer[]> {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < maxNamedStatements) {
    name = `dstream_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name === undefined ? { text: sql, values } : { name, text: sql, values };
}

function queriesOf(tables: Map<string, TableInfo>, run: Run, lines: readonly Uint8Array[]) {
  return statementsOf(tables, run).map((statement) =>
    namedQuery(
      statement.sql,
      statement.indexes.length > 0 ? [eventsParameter(lines, statement.indexes)] : [],
    ),
  );
}

async function applyRun(
  client: pg.Client,
  tables: Map<string, TableInfo>,
  run: Run,
  lines: readonly Uint8Array[],
): Promise<void> {
  for (const query of queriesOf(tables, run, lines)) await client.query(query);
}

export interface BatchPlan {
  runs: Run[];
  events: PlannedEvent[];
  tables: Map<string, TableInfo>;
  lines: readonly Uint8Array[];
}

/**
 * Writes an upsert run another way (COPY through a temporary table, insert-copy.ts); false when
 * the run needs the JSON statement instead.
 */
export type UpsertByCopy = (
  info: TableInfo,
  run: Run,
  lines: readonly Uint8Array[],
) => Promise<boolean>;

/** Writes the batch in one transaction; resolves once it is committed. */
export async function applyBatch(
  client: pg.Client,
  plan: BatchPlan,
  upsertByCopy?: UpsertByCopy,
): Promise<void> {
  try {
    await client.query("BEGIN");
    for (const run of plan.runs) {
      const info = plan.tables.get(run.table) as TableInfo;
      const copied =
        run.action === "upsert" &&
        run.rekeys.length === 0 &&
        upsertByCopy !== undefined &&
        (await upsertByCopy(info, run, plan.lines));
      if (!copied) await applyRun(client, plan.tables, run, plan.lines);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    if (isConnectionLoss(error)) throw error;
    throw await diagnose(client, plan, error);
  }
}

/**
 * Replays the batch event by event in a transaction that is rolled back, to find the first event
 * the server refuses, then the column: from the error, the constraint's columns, or a cast per column.
 */
async function diagnose(client: pg.Client, plan: BatchPlan, original: unknown): Promise<Error> {
  const byIndex = new Map(plan.events.map((event) => [event.index, event]));
  try {
    await client.query("BEGIN");
    for (const run of plan.runs) {
      const info = plan.tables.get(run.table) as TableInfo;
      for (const index of run.indexes) {
        const single: Run = {
          ...run,
          indexes: [index],
          rekeys: run.rekeys.includes(index) ? [index] : [],
        };
        try {
          await client.query("SAVEPOINT dstream_event");
          await applyRun(client, plan.tables, single, plan.lines);
          await client.query("RELEASE SAVEPOINT dstream_event");
        } catch (error) {
          await client.query("ROLLBACK TO SAVEPOINT dstream_event");
          const event = byIndex.get(index) as PlannedEvent;
          return new EventError(
            await describeRefusal(client, info, run, event, plan.lines, error),
            {
              cause: error,
            },
          );
        }
      }
    }
  } finally {
    await client.query("ROLLBACK").catch(() => {});
  }
  // Every event alone went in: the batch failed as a whole (a deferred constraint, for one).
  const server = serverError(original);
  return new EventError(
    `postgres: the batch was refused: ${collapseWhitespace(server?.message ?? String(original))}`,
    {
      cause: original,
    },
  );
}

async function constraintColumns(
  client: pg.Client,
  info: TableInfo,
  constraint: string,
): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_constraint c
     CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, position)
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
     WHERE c.conrelid = $1::regclass AND c.conname = $2 ORDER BY k.position`,
    [qualifiedName(info.table), constraint],
  );
  return result.rows.map((row) => row.name);
}

/** The first of the run's columns whose value alone the server cannot cast to its type. */
async function columnRefusingCast(
  client: pg.Client,
  info: TableInfo,
  run: Run,
  event: PlannedEvent,
  lines: readonly Uint8Array[],
): Promise<string | undefined> {
  const table = qualifiedName(info.table);
  const parameter = eventsParameter(lines, [event.index]);
  const source =
    run.action === "delete" && event.before ? "e.v->'metadata'->'before'" : "e.v->'data'";
  for (const column of run.columns.length > 0 ? run.columns : run.key) {
    const only = `json_build_object(${quoteLiteral(column)}, ${source}->${quoteLiteral(column)})`;
    const value = valueExpression(info, column, source, "r");
    try {
      await client.query("SAVEPOINT dstream_cast");
      await client.query(
        `SELECT ${value} FROM json_array_elements($1::json) AS e(v) CROSS JOIN LATERAL json_populate_record(NULL::${table}, ${only}) AS r`,
        [parameter],
      );
      await client.query("RELEASE SAVEPOINT dstream_cast");
    } catch {
      await client.query("ROLLBACK TO SAVEPOINT dstream_cast");
      return column;
    }
  }
  return undefined;
}

async function describeRefusal(
  client: pg.Client,
  info: TableInfo,
  run: Run,
  event: PlannedEvent,
  lines: readonly Uint8Array[],
  error: unknown,
): Promise<string> {
  const server = serverError(error);
  const reason = collapseWhitespace(server?.message ?? String(error));
  let columns: string[] = [];
  if (server?.column) columns = [server.column];
  else if (server?.constraint) columns = await constraintColumns(client, info, server.constraint);
  if (columns.length === 0) {
    const column = await columnRefusingCast(client, info, run, event, lines);
    if (column !== undefined) columns = [column];
  }
  const where =
    columns.length === 0
      ? ""
      : `, column${columns.length > 1 ? "s" : ""} ${columns.map((column) => `"${column}"`).join(", ")}`;
  const detail = server?.detail ? ` (${collapseWhitespace(server.detail)})` : "";
  return `postgres: table ${displayName(info.table)}${where}, event ${event.sequence}: ${reason}${detail}`;
}
