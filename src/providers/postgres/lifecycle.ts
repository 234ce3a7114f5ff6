// postgres output lifecycle: init creates the table from `columns`, plan shows that DDL, status
// counts the table's rows; destroy never drops a table (it holds the user's data) and says so.
import type { LifecycleOutcome } from "../../sdk/index.ts";
import { type Connection, withConnection } from "./connection.ts";
import { describeTarget } from "./errors.ts";
import type { PostgresOutputConfig } from "./schema.ts";
import { createTableStatement } from "./statements.ts";
import {
  describeTable,
  displayName,
  parseTableName,
  qualifiedName,
  type TableName,
} from "./tables.ts";

const replicateNote =
  "replicate mode writes to the tables the events name; create them on the replica first (for example with pg_dump --schema-only)";

/** The output's one table, or undefined in replicate mode. */
function tableOf(config: PostgresOutputConfig): TableName | undefined {
  return config.table === undefined ? undefined : parseTableName(config.table);
}

function ddlOf(config: PostgresOutputConfig, table: TableName): string | undefined {
  if (!config.columns) return undefined;
  return createTableStatement({ table }, config.columns, config.key);
}

function noColumnsMessage(table: TableName): string {
  return `table ${displayName(table)} does not exist and no columns are declared; create it, or declare columns { name = "type" } so that dstream init creates it`;
}

async function rowCount(connection: Connection, table: TableName): Promise<number> {
  const result = await connection.client.query<{ rows: string }>(
    `SELECT count(*) AS rows FROM ${qualifiedName(table)}`,
  );
  return Number(result.rows[0]?.rows ?? 0);
}

export const outputLifecycle = {
  async init(config: PostgresOutputConfig): Promise<LifecycleOutcome> {
    const table = tableOf(config);
    return withConnection(config, "create the table", async (connection) => {
      if (!table) return { message: `nothing to create: ${replicateNote}` };
      const resource = { type: "postgres_table", name: displayName(table) };
      if (await describeTable(connection.client, table)) {
        return { message: `table ${displayName(table)} already exists`, resources: [resource] };
      }
      const ddl = ddlOf(config, table);
      if (!ddl) return { status: "Failed", message: noColumnsMessage(table) };
      await connection.client.query(ddl);
      return { message: `created table ${displayName(table)}: ${ddl}`, resources: [resource] };
    });
  },
  async plan(config: PostgresOutputConfig): Promise<LifecycleOutcome> {
    const table = tableOf(config);
    return withConnection(config, "look up the table", async (connection) => {
      if (!table) return { message: `nothing to create: ${replicateNote}` };
      if (await describeTable(connection.client, table)) {
        return { message: `table ${displayName(table)} exists` };
      }
      const ddl = ddlOf(config, table);
      if (!ddl) return { status: "Failed", message: noColumnsMessage(table) };
      return { message: `init would run: ${ddl}` };
    });
  },
  async status(config: PostgresOutputConfig): Promise<LifecycleOutcome> {
    const table = tableOf(config);
    return withConnection(config, "look up the table", async (connection) => {
      if (!table) {
        return { message: `connected to ${describeTarget(connection.target)}; ${replicateNote}` };
      }
      if (!(await describeTable(connection.client, table))) {
        return {
          status: "Failed",
          message: `table ${displayName(table)} does not exist (${config.columns ? "dstream init creates it" : "create it, or declare columns for dstream init"})`,
        };
      }
      const rows = await rowCount(connection, table);
      return {
        message: `table ${displayName(table)}: ${rows} rows`,
        resources: [{ type: "postgres_table", name: displayName(table), rows }],
      };
    });
  },
  async destroy(config: PostgresOutputConfig): Promise<LifecycleOutcome> {
    const table = tableOf(config);
    return withConnection(config, "look up the table", async (connection) => {
      if (!table) return { message: "nothing to destroy: replicate mode creates no tables" };
      if (!(await describeTable(connection.client, table))) {
        return { message: `table ${displayName(table)} does not exist; nothing to destroy` };
      }
      const rows = await rowCount(connection, table);
      return {
        message: `left table ${displayName(table)} (${rows} rows) in place: destroy never drops a table that holds data; drop it yourself with DROP TABLE ${qualifiedName(table)}`,
      };
    });
  },
};
