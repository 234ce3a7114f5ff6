// kafka output: an idempotent producer (acks=all by default); a checkpoint is acknowledged only once
// the broker has acked every message before it (flush waits for every send in flight).
import { type CompressionAlgorithmValue, Producer } from "@platformatic/kafka";
import { type Batch, defineOutput } from "../../sdk/index.ts";
import {
  brokerList,
  clientOptions,
  describeKafkaError,
  isUnknownTopic,
  protocolErrorId,
  within,
} from "./connection.ts";
import { outputLifecycle } from "./lifecycle.ts";
import { messagesOf, sequenceOf } from "./messages.ts";
import { type KafkaOutputConfig, kafkaOutputConfigSchema } from "./schema.ts";

export { kafkaOutputConfigSchema };

/** Sends in flight at once: the client queues them per broker; more only holds more memory. */
const maxSendsInFlight = 8;

const acksValue = { all: -1, leader: 1, none: 0 } as const;

/**
 * How long a topic the brokers do not know is asked about again: a broker that creates topics on
 * its own answers "unknown" to the request that makes it, and knows it a moment later.
 */
const topicCreationWaitMs = 3000;

function missingTopicMessage(topics: string): string {
  return `kafka: topic ${topics} does not exist and the brokers do not create topics on their own; create it (dstream init) or enable auto.create.topics.enable`;
}

/** The batch's largest event: the one a MESSAGE_TOO_LARGE from the broker is about. */
function largestEvent(batch: Batch): number {
  let largest = 0;
  for (let index = 1; index < batch.size; index++) {
    if ((batch.lines[index]?.length ?? 0) > (batch.lines[largest]?.length ?? 0)) largest = index;
  }
  return largest;
}

function sendFailure(
  error: unknown,
  config: KafkaOutputConfig,
  batch: Batch,
  topics: string,
): Error {
  const tooLarge = protocolErrorId(error, ["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"]);
  if (tooLarge) {
    const index = largestEvent(batch);
    return new Error(
      `kafka: the broker refused event ${sequenceOf(batch, index)} (${batch.lines[index]?.length} bytes) as too large for topic ${topics} (${tooLarge}); raise the topic's max.message.bytes or make the event smaller`,
      { cause: error },
    );
  }
  if (isUnknownTopic(error)) {
    return new Error(missingTopicMessage(topics), { cause: error });
  }
  return new Error(describeKafkaError(error, config, `send to topic ${topics}`), { cause: error });
}

/**
 * Looks `topic` up, asking the brokers to create it when they lack it (they do when
 * auto.create.topics.enable is on, as kcat and Kafka Connect let them); throws their "unknown"
 * when they still lack it after topicCreationWaitMs.
 */
async function lookUpTopic(producer: Producer, topic: string): Promise<void> {
  const deadline = Date.now() + topicCreationWaitMs;
  for (;;) {
    try {
      await producer.metadata({ topics: [topic], autocreateTopics: true, retries: 0 });
      return;
    } catch (error) {
      const creating = isUnknownTopic(error) || protocolErrorId(error, ["LEADER_NOT_AVAILABLE"]);
      if (!creating || Date.now() >= deadline) throw error;
      await Bun.sleep(100);
    }
  }
}

export const kafkaOutput = defineOutput({
  schema: kafkaOutputConfigSchema,
  batch: { maxLines: 5000, maxBytes: 512 * 1024 },
  ...outputLifecycle,
  async open({ config }) {
    const producer = new Producer({
      ...clientOptions(config),
      idempotent: config.idempotent,
      acks: acksValue[config.acks],
      compression: config.compression as CompressionAlgorithmValue,
      // A topic the brokers lack is theirs to create or refuse (auto.create.topics.enable).
      autocreateTopics: true,
    });
    const brokers = brokerList(config).join(", ");
    // Fail at start, within the bound, when the brokers are away or the one topic is missing.
    try {
      await within(
        (async () => {
          await producer.metadata({ topics: [] });
          if (config.topic) await lookUpTopic(producer, config.topic);
        })(),
        config.connect_timeout_ms,
        () =>
          `kafka: cannot reach the brokers ${brokers} within ${config.connect_timeout_ms} ms; check bootstrap_servers and that Kafka is running`,
      );
    } catch (error) {
      await producer.close().catch(() => {});
      if (isUnknownTopic(error)) {
        throw new Error(missingTopicMessage(`"${config.topic}"`));
      }
      if (error instanceof Error && error.message.startsWith("kafka:")) throw error;
      throw new Error(describeKafkaError(error, config, "connect"), { cause: error });
    }

    // topic_prefix: each table's topic is looked up once, so a missing one fails by name.
    const knownTopics = new Set<string>();
    const checkTopics = async (messages: { topic: string }[]) => {
      const unseen = [...new Set(messages.map((message) => message.topic))].filter(
        (topic) => !knownTopics.has(topic),
      );
      for (const topic of unseen) {
        try {
          await lookUpTopic(producer, topic);
        } catch (error) {
          if (isUnknownTopic(error)) throw new Error(missingTopicMessage(`"${topic}"`));
          throw new Error(describeKafkaError(error, config, `look up topic "${topic}"`), {
            cause: error,
          });
        }
        knownTopics.add(topic);
      }
    };
    const inFlight = new Set<Promise<void>>();
    let failure: Error | undefined;
    const check = () => {
      if (failure) throw failure;
    };
    const flush = async () => {
      await Promise.all(inFlight);
      check();
    };
    return {
      async write(batch) {
        check();
        const messages = messagesOf(batch, config);
        const topics = config.topic
          ? `"${config.topic}"`
          : [...new Set(messages.map((message) => `"${message.topic}"`))].join(", ");
        if (!config.topic) await checkTopics(messages);
        const sent = producer.send({ messages }).then(
          () => undefined,
          (error: unknown) => {
            failure ??= sendFailure(error, config, batch, topics);
          },
        );
        const tracked = sent.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
        if (inFlight.size >= maxSendsInFlight) await Promise.race(inFlight);
        check();
      },
      flush,
      async close() {
        try {
          await flush();
        } finally {
          await producer.close().catch(() => {});
        }
      },
    };
  },
});
