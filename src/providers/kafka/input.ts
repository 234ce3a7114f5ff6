// kafka input: a consumer group member; its checkpoint is the next offset per partition, committed
// to the group only in onCommit (never auto-commit). A restart resumes after the later of the
// task's checkpoint and the group's committed offset, so a clean stop delivers nothing twice.
// Messages are taken from the client as many as it holds at a time and written as one chunk of
// event lines followed by their position: no promise and no object per message on dstream's side.
import { Consumer, type Message, type MessagesStream } from "@platformatic/kafka";
import { collapseWhitespace } from "../../one-line.ts";
import { Checkpoint, defineInput, type InputItem } from "../../sdk/index.ts";
import { valueText } from "../../sdk/json-text.ts";
import {
  brokerList,
  clientOptions,
  describeKafkaError,
  isUnknownTopic,
  within,
} from "./connection.ts";
import { inputLifecycle } from "./lifecycle.ts";
import { offsetsCheckpoint, parseOffsetsCheckpoint } from "./offsets.ts";
import { type KafkaInputConfig, kafkaInputConfigSchema } from "./schema.ts";

export { kafkaInputConfigSchema };

/** The consumer of the running input, for onCommit (one input per process). */
let running: Consumer | undefined;

/** Messages taken from the client at most at once: one chunk of lines, one position after it. */
const maxMessagesAtOnce = 4096;

/** The message's value as the JSON text of the event's `data` (a JSON value as it was written). */
function dataText(message: Message, format: KafkaInputConfig["value"]): string {
  const value = message.value as Buffer | undefined | null;
  if (value === undefined || value === null) return "null";
  const text = valueText(value, format);
  if (text === undefined) {
    throw new Error(
      `kafka: the message at ${message.topic} partition ${message.partition} offset ${message.offset} is not JSON; set value = "string" or "base64" to read it as text or bytes`,
    );
  }
  return text;
}

/** `"topic":<name>` as JSON, by topic: a run reads a few topics many times. */
const topicMembers = new Map<string, string>();

function topicMember(topic: string): string {
  let member = topicMembers.get(topic);
  if (member === undefined) {
    member = `"topic":${JSON.stringify(topic)}`;
    topicMembers.set(topic, member);
  }
  return member;
}

/** The event's line: {"data", "metadata": {topic, partition, offset, key, timestamp, headers}}. */
function eventLine(message: Message, format: KafkaInputConfig["value"]): string {
  const key = message.key ? JSON.stringify(String(message.key)) : "null";
  const headers = message.headers.size > 0 ? JSON.stringify(headersOf(message)) : "{}";
  return `{"data":${dataText(message, format)},"metadata":{${topicMember(message.topic)},"partition":${message.partition},"offset":${message.offset},"key":${key},"timestamp":${message.timestamp},"headers":${headers}}}\n`;
}

function headersOf(message: Message): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of message.headers as Map<Buffer, Buffer>) {
    headers[String(name)] = String(value ?? "");
  }
  return headers;
}

/** The partitions this member owns now ("topic:partition"); undefined before it joined. */
function ownedPartitions(consumer: Consumer): Set<string> | undefined {
  if (!consumer.assignments) return undefined;
  return new Set(
    consumer.assignments.flatMap(({ topic, partitions }) =>
      partitions.map((partition) => `${topic}:${partition}`),
    ),
  );
}

async function openStream(
  config: KafkaInputConfig,
  consumer: Consumer,
): Promise<MessagesStream<Buffer, Buffer, Buffer, Buffer>> {
  const brokers = brokerList(config).join(", ");
  try {
    return await within(
      (async () => {
        await consumer.metadata({ topics: [] });
        // The brokers answer: a missing topic need not be asked about again and again.
        await consumer.metadata({ topics: config.topics, retries: 0 });
        return consumer.consume({
          topics: config.topics,
          mode: "committed",
          fallbackMode: config.start,
          autocommit: false,
          maxWaitTime: 500,
          highWaterMark: 8192,
          sessionTimeout: config.session_timeout_ms,
          heartbeatInterval: Math.floor(config.session_timeout_ms / 3),
        });
      })(),
      config.connect_timeout_ms + config.session_timeout_ms,
      () =>
        `kafka: cannot join group "${config.group_id}" at ${brokers} within ${config.connect_timeout_ms + config.session_timeout_ms} ms; check bootstrap_servers and that Kafka is running`,
    );
  } catch (error) {
    if (isUnknownTopic(error)) {
      const named = /^Unknown topic (.+)\.$/.exec(error instanceof Error ? error.message : "")?.[1];
      const topics = named ? `"${named}"` : config.topics.map((topic) => `"${topic}"`).join(" or ");
      throw new Error(`kafka: topic ${topics} does not exist; check topics`);
    }
    if (error instanceof Error && error.message.startsWith("kafka:")) throw error;
    throw new Error(describeKafkaError(error, config, `consume as group "${config.group_id}"`), {
      cause: error,
    });
  }
}

/**
 * The messages the stream holds, up to maxMessagesAtOnce at a time, read without waiting; waits
 * only when it holds none. Ends when the stream ends, closes or fails (the caller looks at why).
 */
async function* messageBatches(
  stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
): AsyncGenerator<Message[]> {
  // One listener each for the stream's life: taking the last "readable" listener off would stop
  // the client fetching. `wake` is set only while this waits.
  let wake: (() => void) | undefined;
  let ended = false;
  const onReadable = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const onEnd = () => {
    ended = true;
    onReadable();
  };
  stream.on("readable", onReadable);
  stream.on("end", onEnd);
  stream.on("close", onEnd);
  stream.on("error", onEnd);
  try {
    for (;;) {
      const batch: Message[] = [];
      for (let message = stream.read(); message !== null; message = stream.read()) {
        batch.push(message as Message);
        if (batch.length === maxMessagesAtOnce) break;
      }
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (ended || stream.destroyed || stream.readableEnded) return;
      // Set before anything can run: the stream's next event wakes this.
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.off("readable", onReadable);
    stream.off("end", onEnd);
    stream.off("close", onEnd);
    stream.off("error", onEnd);
  }
}

export const kafkaInput = defineInput({
  schema: kafkaInputConfigSchema,
  ...inputLifecycle,
  async *run(config, context): AsyncGenerator<InputItem> {
    // Offsets below the task's own checkpoint were delivered already (its last commit may not have
    // reached the group before the previous run stopped).
    const delivered = parseOffsetsCheckpoint(context.checkpoint);
    const consumer = new Consumer({
      ...clientOptions(config),
      groupId: config.group_id,
      autocommit: false,
      sessionTimeout: config.session_timeout_ms,
      heartbeatInterval: Math.floor(config.session_timeout_ms / 3),
    });
    running = consumer;
    const stream = await openStream(config, consumer).catch(async (error: unknown) => {
      await consumer.close(true).catch(() => {});
      throw error;
    });
    let streamError: unknown;
    // Records fetched for a partition this member has lost are its new owner's: skipped. A
    // rebalance restarts the partitions it kept from the group's commit, which may trail what this
    // run delivered: those records are skipped too (below), so nothing is yielded twice in a run.
    let owned = ownedPartitions(consumer);
    const onJoin = () => {
      owned = ownedPartitions(consumer);
    };
    consumer.on("consumer:group:join", onJoin);
    stream.on("error", (error: unknown) => {
      streamError ??= error;
    });
    const stop = () => void stream.close().catch(() => {});
    context.signal.addEventListener("abort", stop, { once: true });
    // A stop that came while the group was being joined.
    if (context.signal.aborted) stop();
    try {
      for await (const batch of messageBatches(stream)) {
        let lines = "";
        let refused: unknown;
        for (const message of batch) {
          const partitionKey = `${message.topic}:${message.partition}`;
          if (owned !== undefined && !owned.has(partitionKey)) continue;
          const floor = delivered.get(partitionKey);
          if (floor !== undefined && message.offset < floor) continue;
          try {
            lines += eventLine(message, config.value);
          } catch (error) {
            refused = error;
            break;
          }
          delivered.set(partitionKey, message.offset + 1n);
        }
        if (lines !== "") {
          yield Buffer.from(lines);
          // The position after every line above: a stop between two chunks is covered exactly.
          yield new Checkpoint(offsetsCheckpoint(delivered));
        }
        // The messages before a refused one went out first.
        if (refused !== undefined) throw refused;
      }
      if (streamError && !context.signal.aborted) {
        throw new Error(
          describeKafkaError(streamError, config, `consume as group "${config.group_id}"`),
          { cause: streamError },
        );
      }
    } finally {
      context.signal.removeEventListener("abort", stop);
      consumer.off("consumer:group:join", onJoin);
      running = undefined;
      await stream.close().catch(() => {});
      await consumer.close().catch(() => {});
    }
  },
  async onCommit(checkpoint, context) {
    const consumer = running;
    if (!consumer?.assignments) return;
    const offsets = parseOffsetsCheckpoint(checkpoint);
    // Only partitions this member owns: a revoked one's offset may be behind its new owner's.
    const owned = consumer.assignments.flatMap(({ topic, partitions }) =>
      partitions.flatMap((partition) => {
        const offset = offsets.get(`${topic}:${partition}`);
        return offset === undefined ? [] : [{ topic, partition, offset, leaderEpoch: -1 }];
      }),
    );
    if (owned.length === 0) return;
    try {
      await consumer.commit({ offsets: owned });
    } catch (error) {
      // A rebalance between the checkpoint and now: the next commit carries the same offsets on.
      context.log(
        collapseWhitespace(
          describeKafkaError(
            error,
            context.config,
            `commit offsets of group "${context.config.group_id}"`,
          ),
        ),
      );
    }
  },
});
