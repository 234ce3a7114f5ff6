// One run of postgres-cdc: checks, publication and slot (created when init was not run), the
// snapshot when there is no checkpoint, then the stream. Every chunk handed to the SDK ends with
// the checkpoint line of its own position, so a stop can never separate events from their position.
import type pg from "pg";
import { errorCode } from "../../errors.ts";
import type { ProviderContext } from "../../sdk/index.ts";
import { ChangeAssembler } from "./changes.ts";
import { type CdcPosition, parseCheckpoint, positionLine } from "./checkpoint.ts";
import { type CapturedTable, checkTables, loadTypes } from "./checks.ts";
import { connect, oneLineError } from "./connection.ts";
import { SlotLagWatch } from "./lag.ts";
import { formatLsn, type Lsn, parseLsn } from "./lsn.ts";
import {
  checkSlotFits,
  createSlot,
  ensurePublication,
  type SlotState,
  slotActiveMessage,
  slotState,
} from "./resources.ts";
import { type PostgresCdcConfig, type ResourceNames, resourceNames } from "./schema.ts";
import { beginSnapshot, exportSnapshot, snapshotBatches } from "./snapshot.ts";
import { ReplicationStream } from "./stream.ts";

type Context = ProviderContext<PostgresCdcConfig>;
type StreamPosition = Extract<CdcPosition, { phase: "stream" }>;

/** A chunk goes out once this much is assembled (or when the server has nothing more queued). */
const chunkBytes = 256 * 1024;
/** How long a slot held by a run that just died may stay active before we give up. */
const slotReleaseWaitMs = 15_000;

/** What onCommit needs: the running stream, and the newest committed LSN for one not started yet. */
export const commitTarget: { stream?: ReplicationStream | undefined; committed: Lsn } = {
  committed: 0n,
};

function chunk(text: string, position: CdcPosition | undefined, context: Context): Uint8Array {
  const line = position && context.protocol === 2 ? positionLine(position) : "";
  // Buffer.from encodes UTF-8 faster than TextEncoder in Bun.
  return Buffer.from(text + line, "utf8");
}

/** dstream was killed (-9): nobody reads our output any more, so the slot must be let go. */
function parentWatch(): () => void {
  const parent = process.ppid;
  return () => {
    if (parent > 1 && process.ppid !== parent) {
      throw new Error("postgres-cdc: dstream (our parent process) went away; stopping");
    }
  };
}

async function slotWhenFree(client: pg.Client, slot: string, context: Context): Promise<SlotState> {
  const deadline = Date.now() + slotReleaseWaitMs;
  for (;;) {
    const state = await slotState(client, slot);
    if (!state.active) return state;
    if (Date.now() > deadline || context.signal.aborted) {
      throw new Error(slotActiveMessage(slot, state.activePid));
    }
    await context.sleep(500);
  }
}

interface Prepared {
  tables: CapturedTable[];
  slot: SlotState;
  names: ResourceNames;
  lag: SlotLagWatch;
}

async function prepare(
  client: pg.Client,
  config: PostgresCdcConfig,
  context: Context,
): Promise<Prepared> {
  const names = resourceNames(config, context.task);
  const tables = await checkTables(client, config);
  const created = await ensurePublication(client, names.publication, tables, context.task);
  if (created) context.log(`${created} (dstream init was not run)`);
  const slot = await slotWhenFree(client, names.slot, context);
  const database = (await client.query("SELECT current_database() AS name")).rows[0]
    ?.name as string;
  checkSlotFits(names.slot, slot, database);
  return {
    tables,
    slot,
    names,
    lag: new SlotLagWatch(config, names.slot, context.task, context.log),
  };
}

/**
 * The snapshot's chunks; returns where the stream starts: the consistent point of the slot it
 * created, or the position of the task's slot when that existed before (see streamFrom).
 */
async function* snapshot(
  client: pg.Client,
  config: PostgresCdcConfig,
  context: Context,
  prepared: Prepared,
): AsyncGenerator<Uint8Array, StreamPosition> {
  const replication = await connect(config, true);
  let exported: Awaited<ReturnType<typeof exportSnapshot>>;
  try {
    // The task's slot exists (init, or a snapshot that stopped part way): a temporary slot gives
    // the snapshot.
    const temporary = prepared.slot.exists;
    const slot = temporary ? `dstream_snapshot_${process.pid}` : prepared.names.slot;
    exported = await exportSnapshot(replication, slot, temporary);
    if (!temporary) {
      context.log(
        `created slot "${slot}" (pgoutput) at ${exported.lsn} (dstream init was not run)`,
      );
    }
    await beginSnapshot(client, exported);
  } finally {
    await replication.end().catch(() => {});
  }
  context.log(`snapshot of ${prepared.tables.length} table(s) at ${exported.lsn}`);
  let sequence = 0;
  for await (const batch of snapshotBatches(client, {
    tables: prepared.tables,
    lsn: exported.lsn,
    batchRows: config.snapshot_batch_rows,
    sequence,
  })) {
    sequence = batch.sequence;
    prepared.lag.tick();
    yield chunk(batch.text, { phase: "snapshot", sequence }, context);
  }
  const from = streamFrom(prepared.slot, parseLsn(exported.lsn));
  const position: StreamPosition = { phase: "stream", lsn: from, sequence };
  yield chunk("", position, context);
  context.log(
    from < parseLsn(exported.lsn)
      ? `snapshot done: ${sequence} rows; streaming from the slot's position ${formatLsn(from)}, before the snapshot's ${exported.lsn}: the changes between come again`
      : `snapshot done: ${sequence} rows; streaming from ${exported.lsn}`,
  );
  return position;
}

/**
 * Where the stream after a snapshot starts. A slot of the task's that existed before it (dstream
 * init, or a run that stopped part way through its snapshot, whose rows may be written already)
 * was never confirmed since: streaming from its position, before the snapshot's, sends the changes
 * between again, so the deletes of rows an interrupted snapshot had copied are not lost.
 */
function streamFrom(slot: SlotState, snapshotLsn: Lsn): Lsn {
  const confirmed = slot.exists && slot.confirmedFlushLsn ? parseLsn(slot.confirmedFlushLsn) : 0n;
  return confirmed > 0n && confirmed < snapshotLsn ? confirmed : snapshotLsn;
}

/** Where the stream starts when there is no snapshot to take. */
async function streamStart(
  client: pg.Client,
  context: Context,
  prepared: Prepared,
  resume: CdcPosition | null,
): Promise<StreamPosition> {
  const slotName = prepared.names.slot;
  if (resume?.phase === "stream") {
    if (!prepared.slot.exists) {
      throw new Error(
        `postgres-cdc: slot "${slotName}" does not exist any more, so the changes after checkpoint ${formatLsn(resume.lsn)} are gone; to start over with a new snapshot run dstream state reset ${context.task || "<task>"}`,
      );
    }
    // dstream confirms the slot only after the checkpoint is stored, so the slot is never past it.
    // One that is (dropped and created again, another consumer, state set back) would skip changes
    // in silence: the server streams from the slot's position, not from the one asked for.
    const confirmed = prepared.slot.confirmedFlushLsn;
    if (confirmed && parseLsn(confirmed) > resume.lsn) {
      throw new Error(
        `postgres-cdc: slot "${slotName}" is at ${confirmed}, past checkpoint ${formatLsn(resume.lsn)}: the changes between were released by something other than this task (the slot dropped and created again, another consumer, or the checkpoint set back) and cannot be read; to start over with a new snapshot run dstream state reset ${context.task || "<task>"}`,
      );
    }
    return resume;
  }
  const sequence = resume?.sequence ?? 0;
  if (prepared.slot.exists) return { phase: "stream", lsn: 0n, sequence };
  const lsn = await createSlot(client, slotName);
  context.log(`created slot "${slotName}" (pgoutput) at ${lsn} (dstream init was not run)`);
  return { phase: "stream", lsn: parseLsn(lsn), sequence };
}

function describeStreamError(
  error: unknown,
  config: PostgresCdcConfig,
  names: ResourceNames,
): Error {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : "";
  if (code === "55006") {
    const pid = /PID (\d+)/i.exec(message)?.[1];
    return new Error(slotActiveMessage(names.slot, pid === undefined ? null : Number(pid)));
  }
  if (code === "42704" && /publication/.test(message)) {
    return new Error(
      `postgres-cdc: publication "${names.publication}" does not exist any more; run dstream init --provider input (or restart the run) to create it`,
    );
  }
  return oneLineError(error, config, `stream from slot "${names.slot}"`);
}

async function* stream(
  config: PostgresCdcConfig,
  context: Context,
  prepared: Prepared,
  start: StreamPosition,
  assembler: ChangeAssembler,
  committed: Lsn,
): AsyncGenerator<Uint8Array> {
  const client = await connect(config, true);
  const replication = new ReplicationStream(
    client,
    committed > commitTarget.committed ? committed : commitTarget.committed,
  );
  commitTarget.stream = replication;
  const interrupt = () => replication.interrupt();
  context.signal.addEventListener("abort", interrupt, { once: true });
  const checkParent = parentWatch();
  try {
    await replication
      .start({
        slot: prepared.names.slot,
        publication: prepared.names.publication,
        startLsn: start.lsn,
        committedLsn: committed,
      })
      .catch((error: unknown) => {
        throw describeStreamError(error, config, prepared.names);
      });
    let nextHeartbeat = Date.now() + config.heartbeat;
    while (!context.signal.aborted) {
      prepared.lag.tick();
      if (!replication.hasQueued) {
        await replication.wait(1000);
        if (!replication.hasQueued) checkParent();
      }
      try {
        // Everything queued, synchronously, up to a chunk's worth: no await per message.
        for (let message = replication.take(); message; message = replication.take()) {
          assembler.push(message);
          if (assembler.pendingLength >= chunkBytes) break;
        }
      } catch (error) {
        throw describeStreamError(error, config, prepared.names);
      }
      if (replication.ended) {
        if (context.signal.aborted) return;
        throw new Error(
          "postgres-cdc: the server ended replication (it was shut down or the session was terminated)",
        );
      }
      if (config.heartbeat > 0 && Date.now() >= nextHeartbeat) {
        nextHeartbeat = Date.now() + config.heartbeat;
        assembler.advanceToIdle();
        replication.requestKeepalive();
      }
      if (assembler.pendingLength >= chunkBytes || !replication.hasQueued) {
        const text = assembler.take();
        const moved = assembler.takePositionChange();
        if (text.length > 0 || moved) {
          yield chunk(text, moved ? assembler.position : undefined, context);
        }
      }
    }
  } finally {
    context.signal.removeEventListener("abort", interrupt);
    commitTarget.stream = undefined;
    await replication.close();
  }
}

export async function* capture(
  config: PostgresCdcConfig,
  context: Context,
): AsyncGenerator<Uint8Array> {
  const resume = parseCheckpoint(context.checkpoint);
  if (resume?.phase === "stream") commitTarget.committed = resume.lsn;
  const client = await connect(config, false);
  let start: StreamPosition;
  let prepared: Prepared | undefined;
  let assembler: ChangeAssembler;
  try {
    try {
      prepared = await prepare(client, config, context).catch((error: unknown) => {
        throw oneLineError(error, config, "check the tables");
      });
      if (resume?.phase !== "stream" && config.snapshot === "initial") {
        if (resume?.phase === "snapshot")
          context.log("the last snapshot stopped part way: starting it over");
        start = yield* snapshot(client, config, context, prepared);
      } else {
        start = await streamStart(client, context, prepared, resume);
      }
      const catalog = await loadTypes(client);
      assembler = new ChangeAssembler({
        catalog,
        keyColumns: new Map(prepared.tables.map((table) => [table.oid, table.keyColumns])),
        resume: start,
      });
    } catch (error) {
      throw oneLineError(error, config, "start");
    } finally {
      await client.end().catch(() => {});
    }
    yield* stream(
      config,
      context,
      prepared,
      start,
      assembler,
      resume?.phase === "stream" ? resume.lsn : 0n,
    );
  } finally {
    prepared?.lag.close();
  }
}
