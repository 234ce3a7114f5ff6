// nats input: a durable pull consumer on a JetStream stream with explicit acks. A message is acked
// only when dstream commits a checkpoint that covers it (never on receipt), so a crash redelivers
// and a restart redelivers nothing that was committed.
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/transport-node";
import { Checkpoint, defineInput, type InputItem } from "../../sdk/index.ts";
import { valueText } from "../../sdk/json-text.ts";
import {
  closeWithin,
  connectNats,
  errorText,
  shownServers,
  watchConnection,
} from "./connection.ts";
import { inputLifecycle, requireStream } from "./lifecycle.ts";
import { DeliveredPosition, parseNatsCheckpoint, sequencesIn } from "./positions.ts";
import { type NatsInputConfig, natsInputConfigSchema } from "./schema.ts";

export { natsInputConfigSchema };

interface Running {
  stream: string;
  connection: NatsConnection;
  /** Delivered in this run, not yet acked: acked when a commit names them. */
  held: Map<number, JsMsg>;
  /**
   * Durable at dstream (committed here or in an earlier run) and not known to be acked at the
   * server: a redelivery is acked and skipped. An ack sent as a connection drops is lost with it.
   */
  committed: Set<number>;
}

let running: Running | undefined;

/** Acks `messages`; once the server has answered a ping sent after them, they are known acked. */
function ackCommitted(state: Running, messages: JsMsg[]): void {
  if (messages.length === 0) return;
  for (const message of messages) {
    message.ack();
    state.committed.add(message.seq);
  }
  state.connection.flush().then(
    () => {
      for (const message of messages) state.committed.delete(message.seq);
    },
    // Lost with the connection: the redelivery is acked again.
    () => {},
  );
}

/** The message's value as the JSON text of the event's `data` (a JSON value as it was written). */
function dataText(message: JsMsg, format: NatsInputConfig["value"]): string {
  if (format === "json" && message.data.length === 0) return "null";
  const text = valueText(message.data, format);
  if (text === undefined) {
    throw new Error(
      `nats: message ${message.seq} of stream "${message.info.stream}" on "${message.subject}" is not JSON; set value = "string" or "base64" to read it as text or bytes`,
    );
  }
  return text;
}

/** The event's line: {"data", "metadata": {stream, subject, sequence, timestamp, redelivered, headers}}. */
function eventLine(message: JsMsg, config: NatsInputConfig): Buffer {
  const metadata = JSON.stringify({
    stream: config.stream,
    subject: message.subject,
    sequence: message.seq,
    timestamp: Math.floor(message.info.timestampNanos / 1e6),
    redelivered: message.redelivered,
    headers: headersOf(message),
  });
  return Buffer.from(`{"data":${dataText(message, config.value)},"metadata":${metadata}}\n`);
}

function headersOf(message: JsMsg): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!message.headers) return headers;
  for (const name of message.headers.keys()) headers[name] = message.headers.get(name);
  return headers;
}

/** The durable consumer, created (explicit acks) when it does not exist yet. */
async function ensureDurable(jsm: JetStreamManager, config: NatsInputConfig) {
  try {
    return await jsm.consumers.info(config.stream, config.durable);
  } catch (error) {
    if (!/not found/i.test(errorText(error))) {
      throw new Error(
        `nats: cannot read durable "${config.durable}" of stream "${config.stream}" (${errorText(error)})`,
      );
    }
  }
  try {
    return await jsm.consumers.add(config.stream, {
      durable_name: config.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: config.start === "all" ? DeliverPolicy.All : DeliverPolicy.New,
      ack_wait: nanos(config.ack_wait_ms),
      max_ack_pending: config.max_ack_pending,
      ...(config.filter_subject ? { filter_subject: config.filter_subject } : {}),
    });
  } catch (error) {
    throw new Error(
      `nats: cannot create durable "${config.durable}" on stream "${config.stream}" (${errorText(error)})`,
    );
  }
}

export const natsInput = defineInput({
  schema: natsInputConfigSchema,
  ...inputLifecycle,
  async *run(config, context): AsyncGenerator<InputItem> {
    const connection: NatsConnection = await connectNats(config);
    let messages: ConsumerMessages | undefined;
    const stop = () => void messages?.close().catch(() => {});
    context.signal.addEventListener("abort", stop, { once: true });
    const watch = watchConnection(connection, config, { onLost: stop });
    try {
      const jsm = await jetstreamManager(connection);
      await requireStream(jsm, config.stream);
      const durable = await ensureDurable(jsm, config);
      // Sequences at or below the ack floor are acked already: no redelivery will come for them.
      const floor = durable.ack_floor.stream_seq;
      const committed = new Set(
        [...sequencesIn(parseNatsCheckpoint(context.checkpoint, config.stream))].filter(
          (sequence) => sequence > floor,
        ),
      );
      const state: Running = { stream: config.stream, connection, held: new Map(), committed };
      running = state;
      const consumer = await jetstream(connection).consumers.get(config.stream, config.durable);
      messages = await consumer.consume({ max_messages: 1000 });
      if (context.signal.aborted || watch.lost) stop();
      const unacked = () => [...state.committed, ...state.held.keys()];
      let position = DeliveredPosition.of(config.stream, unacked());
      for await (const message of messages) {
        // Committed already (ack it again), or held here longer than ack_wait so that JetStream
        // sent it again: either way it was passed on once already.
        if (state.committed.has(message.seq)) {
          ackCommitted(state, [message]);
          continue;
        }
        const passedOn = state.held.has(message.seq);
        state.held.set(message.seq, message);
        if (passedOn) continue;
        position = position.next(message.seq, unacked);
        // The line, then the position after it: a stop between two events is covered exactly.
        yield eventLine(message, config);
        yield new Checkpoint(position);
      }
      // Only a stop ends a durable's messages: anything else is a failure, never a clean end.
      if (!context.signal.aborted) {
        throw (
          watch.lost ??
          new Error(
            `nats: durable "${config.durable}" of stream "${config.stream}" stopped delivering at ${shownServers(config)}`,
          )
        );
      }
    } finally {
      context.signal.removeEventListener("abort", stop);
      running = undefined;
      await messages?.close().catch(() => {});
      await closeWithin(connection);
    }
  },
  onCommit(checkpoint) {
    const state = running;
    if (!state) return;
    const acked: JsMsg[] = [];
    for (const sequence of sequencesIn(parseNatsCheckpoint(checkpoint, state.stream))) {
      const message = state.held.get(sequence);
      if (message) {
        acked.push(message);
        state.held.delete(sequence);
      }
    }
    ackCommitted(state, acked);
  },
});
