// postgres output: each batch is one transaction (insert, upsert by key, or postgres-cdc events
// replicated). The SDK acknowledges a checkpoint only once the lines before it are committed
// (durableLines); it never has to wait for a flush meanwhile.
import { type Batch, BatchLineError, defineOutput } from "../../sdk/index.ts";
import { Committer, RawCommitter } from "./committer.ts";
import { compactRuns } from "./compact.ts";
import { type Connection, connect } from "./connection.ts";
import { describeConnectionError, EventError, isConnectionLoss } from "./errors.ts";
import { planRuns, readEvents } from "./events.ts";
import {
  applyCopyRuns,
  CopyBuffers,
  type CopyRun,
  CopyRunBuilder,
  UpsertStages,
  upsertRunByCopy,
} from "./insert-copy.ts";
import { outputLifecycle } from "./lifecycle.ts";
import { type PostgresOutputConfig, postgresOutputConfigSchema } from "./schema.ts";
import { describeTable, displayName, parseTableName, type TableInfo } from "./tables.ts";
import { applyBatch, type UpsertByCopy } from "./writer.ts";

export { postgresOutputConfigSchema };

function missingTableMessage(name: string, config: PostgresOutputConfig): string {
  if (config.mode === "replicate") {
    return `postgres: table ${name} does not exist on the replica; create it first (for example: pg_dump --schema-only --table ${name} <source> | psql <replica>)`;
  }
  const fix = config.columns
    ? "run dstream init to create it from the columns setting"
    : 'create it, or declare columns { name = "type" } and run dstream init';
  return `postgres: table ${name} does not exist; ${fix}`;
}

/** Looks tables up once per run: their columns, types and primary key. */
class TableCatalog {
  readonly #known = new Map<string, { info: TableInfo; display: string }>();

  constructor(
    private readonly connection: Connection,
    private readonly config: PostgresOutputConfig,
  ) {}

  async load(name: string): Promise<void> {
    if (this.#known.has(name)) return;
    const table = parseTableName(name);
    const info = await describeTable(this.connection.client, table);
    if (!info) throw new EventError(missingTableMessage(displayName(table), this.config));
    this.#known.set(name, { info, display: displayName(table) });
  }

  get(name: string): { info: TableInfo; display: string } {
    return this.#known.get(name) as { info: TableInfo; display: string };
  }

  infos(): Map<string, TableInfo> {
    return new Map([...this.#known].map(([name, known]) => [name, known.info]));
  }
}

function keyOf(config: PostgresOutputConfig) {
  return (info: TableInfo, display: string): string[] => {
    if (config.key) {
      const unknown = config.key.find((column) => !info.columns.has(column));
      if (unknown !== undefined) {
        throw new EventError(
          `postgres: key column "${unknown}" is not a column of table ${display}`,
        );
      }
      return config.key;
    }
    if (info.primaryKey.length > 0) return info.primaryKey;
    const fix =
      config.mode === "upsert"
        ? "set key = [...] to the columns of a unique index, or add a primary key"
        : "add a primary key to the replica table";
    throw new EventError(
      `postgres: table ${display} has no primary key, which ${config.mode} needs to match rows; ${fix}`,
    );
  };
}

/** SET session_replication_role for the output's session, or one line with the fix. */
async function setReplicationRole(connection: Connection, role: "origin" | "replica") {
  try {
    await connection.client.query(`SET session_replication_role = ${role}`);
  } catch (error) {
    if ((error as { code?: string }).code !== "42501") throw error;
    const user = connection.target.user;
    throw new EventError(
      `postgres: role "${user}" may not set session_replication_role; connect as a superuser, or on PostgreSQL 15 and later run GRANT SET ON PARAMETER session_replication_role TO "${user}"`,
    );
  }
}

export const postgresOutput = defineOutput({
  schema: postgresOutputConfigSchema,
  // Batches are gathered again to the settings' limits (see Committer): the SDK hands them over
  // as soon as they are read.
  batch: { maxLines: 5000, maxBytes: 4 * 1024 * 1024, maxWaitMs: 0 },
  ...outputLifecycle,
  async open(context) {
    const config = context.config;
    const connection = await connect(config, "connect");
    const catalog = new TableCatalog(connection, config);
    const failWith = (error: unknown): never => {
      if (error instanceof EventError) {
        throw new Error(connection.mask(error.message), { cause: error });
      }
      if (error instanceof BatchLineError) {
        throw new Error(`postgres: ${error.message}`, { cause: error });
      }
      throw new Error(connection.mask(describeConnectionError(error, connection.target, "write")), {
        cause: error,
      });
    };
    try {
      if (config.session_replication_role) {
        await setReplicationRole(connection, config.session_replication_role);
      }
      if (config.table) {
        await catalog.load(config.table);
        const { info, display } = catalog.get(config.table);
        if (config.mode === "upsert") keyOf(config)(info, display);
      }
    } catch (error) {
      await connection.client.end().catch(() => {});
      failWith(error);
    }
    const stages = new UpsertStages();
    const buffers = new CopyBuffers();
    const upsertByCopy: UpsertByCopy = (info, run, lines) =>
      upsertRunByCopy(
        connection.client,
        stages,
        buffers,
        info,
        run.indexes.map((index) => lines[index] as Uint8Array),
        run.key,
      );
    /** The JSON way: every event read, each table's statements; it names a refused event. */
    const writeEvents = async (batch: Batch): Promise<void> => {
      const events = readEvents(batch, config.mode, config.table);
      for (const name of new Set(events.map((event) => event.table))) await catalog.load(name);
      const planned = planRuns(events, (name) => catalog.get(name), keyOf(config));
      const runs = config.mode === "replicate" ? compactRuns(planned, events) : planned;
      const plan = { runs, events, tables: catalog.infos(), lines: batch.lines };
      try {
        await applyBatch(connection.client, plan, upsertByCopy);
      } catch (error) {
        stages.forget();
        throw error;
      }
    };
    const closing = (committer: { flush(): Promise<void>; dispose(): void }) => async () => {
      try {
        await committer.flush();
      } finally {
        committer.dispose();
        await connection.client.end().catch(() => {});
      }
    };
    if (config.mode === "replicate") {
      const committer = new Committer(config, (batch) => writeEvents(batch).catch(failWith));
      return {
        write: (batch: Batch) => committer.add(batch),
        durableLines: () => committer.durableLines(),
        close: closing(committer),
      };
    }
    // Insert and upsert take stdin's chunks: each event becomes a COPY row as it comes.
    const table = config.table as string;
    const { info, display } = catalog.get(table);
    const key = config.mode === "upsert" ? keyOf(config)(info, display) : undefined;
    const upsert = key ? { stages, key } : undefined;
    const committer = new RawCommitter<CopyRun[]>(
      config,
      buffers,
      (out) => new CopyRunBuilder(info, key, key !== undefined, out),
      async (batch) => {
        try {
          if (batch.converted) {
            try {
              await applyCopyRuns(connection.client, info, batch.converted, upsert);
              return;
            } catch (error) {
              // A refused row: the JSON way finds it again and names the event and column.
              if (isConnectionLoss(error)) throw error;
            }
          }
          await writeEvents(batch.toBatch());
        } catch (error) {
          failWith(error);
        }
      },
    );
    return {
      writeRaw: (chunk: Uint8Array) => committer.write(chunk),
      durableLines: () => committer.durableLines(),
      close: closing(committer),
    };
  },
});
