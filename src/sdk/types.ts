// The shapes a provider author writes: input and output definitions, their contexts and results.
import type * as v from "valibot";
import type { Envelope, LifecycleCommand, ProviderRole } from "../protocol/index.ts";
import type { Batch } from "./batch.ts";
import type { Checkpoint, CheckpointCadence } from "./checkpoint.ts";
import type { FileRange } from "./file-range.ts";
import type { StdoutWriter } from "./stdout-writer.ts";

// biome-ignore lint/suspicious/noExplicitAny: a config schema may have any output type.
export type ConfigSchema = v.GenericSchema<unknown, any>;
export type ConfigOf<S extends ConfigSchema> = v.InferOutput<S>;

/** What a lifecycle hook returns; omitted fields default to Success, "", []. */
export interface LifecycleOutcome {
  status?: "Success" | "Failed";
  message?: string;
  resources?: unknown[];
}

export type LifecycleHook<C> = (
  config: C,
  context: ProviderContext<C>,
) => LifecycleOutcome | undefined | Promise<LifecycleOutcome | undefined>;

export type LifecycleHooks<C> = Partial<Record<LifecycleCommand, LifecycleHook<C>>>;

export interface ProviderContext<C> {
  config: C;
  /** DSTREAM_TASK, or "" when started by hand. */
  task: string;
  role: ProviderRole;
  /** Aborted on SIGTERM or SIGINT: stop producing, let the SDK flush. */
  signal: AbortSignal;
  /** Resolves after `ms`, or at once when the provider is told to stop. */
  sleep(ms: number): Promise<void>;
  /** Writes one log line to stderr (dstream prefixes it with [task/role]). */
  log(message: string): void;
  /** The provider's stdout, with backpressure: await what write() returns when it is a promise. */
  stdout: StdoutWriter;
  /** The protocol dstream speaks with this provider: 2 (checkpoints) or 1 (an older dstream). */
  protocol: 1 | 2;
  /**
   * An input's resume point: the last checkpoint dstream committed for this task, or null on a
   * first run (and always for an output). Start after it.
   */
  checkpoint: unknown;
}

/** An event, optionally with the input's position after it (written as a checkpoint line, not data). */
export type InputEvent = Envelope & { checkpoint?: unknown };

/**
 * An input yields events, Uint8Array chunks that already are JSON lines (the fast path), a
 * FileRange of a file that holds JSON lines (copied by the kernel where it can be), or a
 * Checkpoint: its position after everything yielded so far.
 */
export type InputItem = InputEvent | Uint8Array | FileRange | Checkpoint;

export interface InputDefinition<S extends ConfigSchema> extends LifecycleHooks<ConfigOf<S>> {
  schema: S;
  /** Start after `context.checkpoint` when it is not null. */
  run(
    config: ConfigOf<S>,
    context: ProviderContext<ConfigOf<S>>,
  ): AsyncIterable<InputItem> | Iterable<InputItem>;
  /**
   * A checkpoint is durable at dstream: what it covers may be released upstream (confirm an LSN,
   * commit offsets, ack messages). Called in order, never twice at once; not for every checkpoint
   * (they are cumulative). A throw fails the input.
   */
  onCommit?(checkpoint: unknown, context: ProviderContext<ConfigOf<S>>): void | Promise<void>;
  /** How often positions go out as checkpoint lines (default: 1000 events or 100 ms). */
  checkpointEvery?: CheckpointCadence;
}

export interface BatchLimits {
  /** Lines per batch at most (default 1000). */
  maxLines?: number;
  /** Bytes per batch at most, newlines excluded (default 1 MiB); a longer line is a batch alone. */
  maxBytes?: number;
  /** How long a batch may wait for more lines once stdin has nothing ready (default 0: deliver). */
  maxWaitMs?: number;
}

/** Where an output's data goes; either method may be given, `writeRaw` wins when both are. */
export interface OutputSink<C> {
  /** Receives batches of lines (empty lines are skipped). */
  write?(batch: Batch, context: ProviderContext<C>): void | Promise<void>;
  /**
   * Receives stdin as it arrives, cut at line ends: each chunk holds whole lines ending in \n. The
   * chunk is a view into a buffer the next read reuses: use it before returning (or before the
   * returned promise settles), or copy it.
   */
  writeRaw?(chunk: Uint8Array, context: ProviderContext<C>): void | Promise<void>;
  /**
   * Makes everything written so far durable (fsync, a broker's acks, a committed transaction).
   * The SDK calls it before it acknowledges a checkpoint to dstream (at most every 100 ms while
   * data flows); without it, a checkpoint is acknowledged once the writes before it resolved.
   */
  flush?(context: ProviderContext<C>): void | Promise<void>;
  /**
   * How many of the lines given so far are durable at the destination: batch lines given to
   * `write`, or lines (empty ones too) in the chunks given to `writeRaw`. For a sink that makes data
   * durable on its own schedule (objects completed by size or age): with it the SDK never calls
   * flush() to acknowledge, but echoes the newest checkpoint whose preceding lines are all durable,
   * looking after every write and, while checkpoints wait, every 100 ms; the last after close().
   */
  durableLines?(context: ProviderContext<C>): number;
  /** After the last line (EOF or stop): flush, fsync, report. The last checkpoint is acknowledged after it. */
  close?(context: ProviderContext<C>): void | Promise<void>;
}

export interface OutputDefinition<S extends ConfigSchema>
  extends LifecycleHooks<ConfigOf<S>>,
    OutputSink<ConfigOf<S>> {
  schema: S;
  batch?: BatchLimits;
  /**
   * Runs before the ready handshake; a throw becomes the handshake error. May return a sink
   * (per-run state, or a write method chosen by config) used instead of the definition's own.
   */
  open?(
    context: ProviderContext<ConfigOf<S>>,
  ): OutputSink<ConfigOf<S>> | undefined | Promise<OutputSink<ConfigOf<S>> | undefined>;
}

export type ProviderDefinition =
  | ({ role: "input" } & InputDefinition<ConfigSchema>)
  | ({ role: "output" } & OutputDefinition<ConfigSchema>);
