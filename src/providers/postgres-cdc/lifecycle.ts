// postgres-cdc lifecycle (dstream init|plan|status|destroy --provider input): the publication and
// the slot, and the slot's lag, the WAL it keeps the server from removing.
import type pg from "pg";
import type { LifecycleOutcome, ProviderContext } from "../../sdk/index.ts";
import { checkTables } from "./checks.ts";
import { connect, oneLineError } from "./connection.ts";
import { bytesText } from "./lag.ts";
import {
  checkSlotFits,
  createSlot,
  dropPublication,
  dropSlot,
  ensurePublication,
  publicationState,
  slotActiveMessage,
  slotState,
} from "./resources.ts";
import { type PostgresCdcConfig, resourceNames } from "./schema.ts";

type Context = ProviderContext<PostgresCdcConfig>;

async function withClient<T>(
  config: PostgresCdcConfig,
  doing: string,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(config, false);
  try {
    return await use(client);
  } catch (error) {
    throw oneLineError(error, config, doing);
  } finally {
    await client.end().catch(() => {});
  }
}

async function currentDatabase(client: pg.Client): Promise<string> {
  return (await client.query("SELECT current_database() AS name")).rows[0]?.name as string;
}

export const inputLifecycle = {
  async init(config: PostgresCdcConfig, context: Context): Promise<LifecycleOutcome> {
    const names = resourceNames(config, context.task);
    return withClient(config, "create the publication and the slot", async (client) => {
      const tables = await checkTables(client, config);
      const done = [await ensurePublication(client, names.publication, tables, context.task)];
      if (!done[0]) done[0] = `publication "${names.publication}" exists`;
      const slot = await slotState(client, names.slot);
      checkSlotFits(names.slot, slot, await currentDatabase(client));
      if (slot.exists) done.push(`slot "${names.slot}" exists`);
      else
        done.push(
          `created slot "${names.slot}" (pgoutput) at ${await createSlot(client, names.slot)}`,
        );
      return {
        message: done.join("; "),
        resources: [
          { type: "postgres_publication", name: names.publication },
          { type: "postgres_replication_slot", name: names.slot },
        ],
      };
    });
  },

  async plan(config: PostgresCdcConfig, context: Context): Promise<LifecycleOutcome> {
    const names = resourceNames(config, context.task);
    return withClient(config, "look up the publication and the slot", async (client) => {
      const tables = await checkTables(client, config);
      const publication = await publicationState(client, names.publication);
      const slot = await slotState(client, names.slot);
      const list = tables.map((table) => `${table.schema}.${table.name}`).join(", ");
      const missing = tables.filter(
        (table) => !publication.tables.includes(`${table.schema}.${table.name}`),
      );
      const parts = [
        !publication.exists
          ? `init would create publication "${names.publication}" for ${list}`
          : missing.length > 0 && !publication.tables.includes("*")
            ? `publication "${names.publication}" exists but lacks ${missing.map((table) => `${table.schema}.${table.name}`).join(", ")}`
            : `publication "${names.publication}" exists`,
        slot.exists
          ? `slot "${names.slot}" exists`
          : `init would create slot "${names.slot}" (pgoutput, persistent)`,
      ];
      return { message: parts.join("; ") };
    });
  },

  async status(config: PostgresCdcConfig, context: Context): Promise<LifecycleOutcome> {
    const names = resourceNames(config, context.task);
    return withClient(config, "read the slot's state", async (client) => {
      const slot = await slotState(client, names.slot);
      const publication = await publicationState(client, names.publication);
      if (!slot.exists) {
        return {
          status: "Failed",
          message: `slot "${names.slot}" does not exist (dstream init or dstream run creates it)`,
        };
      }
      const retained = slot.retainedBytes ?? 0;
      const unconfirmed = slot.unconfirmedBytes ?? 0;
      const activity = slot.active ? `active (pid ${slot.activePid})` : "inactive";
      const warning =
        config.lag_warning_bytes > 0 && retained >= config.lag_warning_bytes
          ? `; warning: past lag_warning_bytes (${config.lag_warning_bytes}), and it grows while the task does not run or its output falls behind: run it, or dstream destroy the task`
          : "";
      return {
        message: `slot "${names.slot}": ${activity}, lag ${bytesText(retained)}: the WAL it keeps on the server's disk (restart ${slot.restartLsn}); ${bytesText(unconfirmed)} past its confirmed position (confirmed ${slot.confirmedFlushLsn})${warning}`,
        resources: [
          {
            type: "postgres_replication_slot",
            name: names.slot,
            active: slot.active,
            active_pid: slot.activePid,
            restart_lsn: slot.restartLsn,
            confirmed_flush_lsn: slot.confirmedFlushLsn,
            lag_bytes: retained,
            unconfirmed_bytes: unconfirmed,
          },
          {
            type: "postgres_publication",
            name: names.publication,
            exists: publication.exists,
            tables: publication.tables,
          },
        ],
      };
    });
  },

  async destroy(config: PostgresCdcConfig, context: Context): Promise<LifecycleOutcome> {
    const names = resourceNames(config, context.task);
    return withClient(config, "drop the slot and the publication", async (client) => {
      const done: string[] = [];
      const slot = await slotState(client, names.slot);
      if (slot.active) throw new Error(slotActiveMessage(names.slot, slot.activePid));
      if (slot.exists) {
        await dropSlot(client, names.slot);
        done.push(`dropped slot "${names.slot}"`);
      } else done.push(`slot "${names.slot}" does not exist`);
      const publication = await publicationState(client, names.publication);
      if (publication.ownedByDstream) {
        await dropPublication(client, names.publication);
        done.push(`dropped publication "${names.publication}"`);
      } else if (publication.exists) {
        done.push(`kept publication "${names.publication}" (dstream did not create it)`);
      } else done.push(`publication "${names.publication}" does not exist`);
      return { message: done.join("; ") };
    });
  },
};
