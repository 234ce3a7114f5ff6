// postgres output: each batch is one transaction (insert, upsert by key, or postgres-cdc events
// replicated); write() resolves after COMMIT, so the SDK acknowledges a checkpoint only then.
import { type Batch, BatchLineError, defineOutput } from "../../sdk/index.ts";
import { Committer } from "./committer.ts";
import { compactRuns } from "./compact.ts";
import { type Connection, connect } from "./connection.ts";
import type { ByteBuilder } from "./copy-rows.ts";
import { describeConnectionError, EventError, isConnectionLoss } from "./errors.ts";
import { planRuns, readEvents } from "./events.ts";
import {
  applyCopyRuns,
  CopyBuffers,
  type CopyRun,
  copyRuns,
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

/** A batch converted to COPY runs (undefined: it needs the general path), in its own buffer. */
interface PreparedCopy {
  runs: CopyRun[] | undefined;
  buffer: ByteBuilder;
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
    /** Insert and upsert: the batch as COPY runs, built while the previous batch is written. */
    const prepareCopy = (batch: Batch): PreparedCopy | undefined => {
      if (config.mode === "replicate") return undefined;
      const buffer = buffers.take();
      try {
        const { info, display } = catalog.get(config.table as string);
        const key = config.mode === "upsert" ? keyOf(config)(info, display) : undefined;
        return { runs: copyRuns(batch.lines, info, key, key !== undefined, buffer), buffer };
      } catch {
        // The general path finds the problem again and names it.
        return { runs: undefined, buffer };
      }
    };
    /** The COPY path of insert and upsert; false when the batch needs the general path. */
    const writeByCopy = async (prepared: PreparedCopy | undefined): Promise<boolean> => {
      if (!prepared?.runs) return false;
      const { info, display } = catalog.get(config.table as string);
      const upsert =
        config.mode === "upsert" ? { stages, key: keyOf(config)(info, display) } : undefined;
      try {
        await applyCopyRuns(connection.client, info, prepared.runs, upsert);
        return true;
      } catch (error) {
        if (isConnectionLoss(error)) throw error;
        return false;
      }
    };
    const upsertByCopy: UpsertByCopy = (info, run, lines) =>
      upsertRunByCopy(
        connection.client,
        stages,
        buffers,
        info,
        run.indexes.map((index) => lines[index] as Uint8Array),
        run.key,
      );
    const committer = new Committer<PreparedCopy | undefined>(
      config,
      async (batch, prepared) => {
        try {
          const copied = await writeByCopy(prepared).finally(() => {
            if (prepared) buffers.give(prepared.buffer);
          });
          if (copied) return;
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
        } catch (error) {
          failWith(error);
        }
      },
      prepareCopy,
    );
    return {
      write: (batch: Batch) => committer.add(batch),
      flush: () => committer.flush(),
      async close() {
        try {
          await committer.flush();
        } finally {
          committer.dispose();
          await connection.client.end().catch(() => {});
        }
      },
    };
  },
});
