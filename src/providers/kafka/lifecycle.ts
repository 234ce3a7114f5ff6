// kafka lifecycle: init creates the output topic and records it, destroy deletes it only when init
// recorded it, status shows topics and a group's lag per partition; one client per command.
import { Admin, Consumer, Producer } from "@platformatic/kafka";
import type { LifecycleOutcome } from "../../sdk/index.ts";
import {
  brokerList,
  clientOptions,
  describeKafkaError,
  isUnknownTopic,
  protocolErrorId,
  within,
} from "./connection.ts";
import type { KafkaConnectionConfig, KafkaInputConfig, KafkaOutputConfig } from "./schema.ts";

async function withAdmin<T>(
  config: KafkaConnectionConfig,
  doing: string,
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Admin(clientOptions(config));
  try {
    return await within(
      use(admin),
      config.connect_timeout_ms + 5000,
      () =>
        `kafka: cannot reach the brokers ${brokerList(config).join(", ")} within ${config.connect_timeout_ms} ms to ${doing}; check bootstrap_servers`,
    );
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("kafka:")) throw error;
    throw new Error(describeKafkaError(error, config, doing), { cause: error });
  } finally {
    await admin.close().catch(() => {});
  }
}

/** The output's one topic; topic_prefix topics depend on the events, so no command can name them. */
function outputTopic(config: KafkaOutputConfig): string {
  if (config.topic) return config.topic;
  throw new Error(
    `kafka: with topic_prefix the topics are "${config.topic_prefix}.<metadata.table>", known only from the events; create them yourself or set topic`,
  );
}

/**
 * Where init records the topics it created: a compacted topic keyed by topic name whose value holds
 * the topic's id, so destroy deletes a topic only when init made this very one (not one that was
 * there before, nor one deleted and made again by someone else since).
 */
const createdTopicsLog = "_dstream_created_topics";

interface CreatedTopicRecord {
  id: string;
  task: string;
  created_at: string;
}

async function ensureCreatedTopicsLog(admin: Admin, config: KafkaOutputConfig): Promise<void> {
  try {
    await admin.createTopics({
      topics: [createdTopicsLog],
      partitions: 1,
      replicas: config.replication_factor,
      configs: [{ name: "cleanup.policy", value: "compact" }],
    });
  } catch (error) {
    if (!protocolErrorId(error, ["TOPIC_ALREADY_EXISTS"])) throw error;
  }
}

/** Writes `record` (null: forget the topic) for `topic`, acked by every in-sync replica. */
async function writeCreatedTopic(
  config: KafkaOutputConfig,
  topic: string,
  record: CreatedTopicRecord | null,
): Promise<void> {
  const producer = new Producer({ ...clientOptions(config), acks: -1 });
  try {
    await producer.send({
      messages: [
        {
          topic: createdTopicsLog,
          key: Buffer.from(topic),
          value:
            record === null ? (null as unknown as Buffer) : Buffer.from(JSON.stringify(record)),
        },
      ],
    });
  } finally {
    await producer.close().catch(() => {});
  }
}

/** The last record of `topic` in the log (undefined: init never created it, or destroy forgot it). */
async function readCreatedTopic(
  config: KafkaOutputConfig,
  topic: string,
): Promise<CreatedTopicRecord | undefined> {
  const consumer = new Consumer({ ...clientOptions(config), groupId: "dstream-lifecycle" });
  try {
    const metadata = await consumer.metadata({ topics: [createdTopicsLog] });
    const log = metadata.topics.get(createdTopicsLog);
    const leader = log?.partitions[0]?.leader;
    if (!log || leader === undefined) return undefined;
    const end =
      (await consumer.listOffsets({ topics: [createdTopicsLog] })).get(createdTopicsLog)?.[0] ?? 0n;
    let found: CreatedTopicRecord | undefined;
    let offset = 0n;
    while (offset < end) {
      const response = await consumer.fetch({
        node: leader,
        topics: [
          {
            topicId: log.id,
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset: offset,
                lastFetchedEpoch: -1,
                partitionMaxBytes: 1_048_576,
              },
            ],
          },
        ],
        maxWaitTime: 100,
      });
      const partition = response.responses[0]?.partitions[0];
      const batches = partition?.records ?? [];
      if (batches.length === 0) break;
      for (const batch of batches) {
        for (const record of batch.records) {
          if (record.key?.toString() !== topic) continue;
          found = record.value
            ? (JSON.parse(record.value.toString()) as CreatedTopicRecord)
            : undefined;
        }
        offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      }
    }
    return found;
  } catch (error) {
    if (isUnknownTopic(error)) return undefined;
    throw error;
  } finally {
    await consumer.close().catch(() => {});
  }
}

/** The id Kafka gave `topic`, undefined when it does not exist. */
async function topicId(admin: Admin, topic: string): Promise<string | undefined> {
  try {
    return (await admin.metadata({ topics: [topic] })).topics.get(topic)?.id;
  } catch (error) {
    if (isUnknownTopic(error)) return undefined;
    throw error;
  }
}

export const outputLifecycle = {
  async init(config: KafkaOutputConfig, context: { task: string }): Promise<LifecycleOutcome> {
    const topic = outputTopic(config);
    return withAdmin(config, `create topic "${topic}"`, async (admin) => {
      const resource = { type: "kafka_topic", name: topic };
      // First, so that a user who may not create it fails before a topic nobody recorded exists.
      await ensureCreatedTopicsLog(admin, config);
      let created: { id: string } | undefined;
      try {
        [created] = await admin.createTopics({
          topics: [topic],
          partitions: config.partitions,
          replicas: config.replication_factor,
        });
      } catch (error) {
        if (protocolErrorId(error, ["TOPIC_ALREADY_EXISTS"])) {
          return { message: `topic "${topic}" already exists`, resources: [resource] };
        }
        throw error;
      }
      const record = {
        id: created?.id ?? (await topicId(admin, topic)) ?? "",
        task: context.task,
        created_at: new Date().toISOString(),
      };
      try {
        await writeCreatedTopic(config, topic, record);
      } catch (error) {
        throw new Error(
          `kafka: created topic "${topic}" but could not record it in "${createdTopicsLog}", so dstream destroy will leave it: ${describeKafkaError(error, config, "record it")}`,
          { cause: error },
        );
      }
      return {
        message: `created topic "${topic}" (${config.partitions} partitions, replication ${config.replication_factor})`,
        resources: [resource],
      };
    });
  },
  async plan(config: KafkaOutputConfig): Promise<LifecycleOutcome> {
    const topic = outputTopic(config);
    return withAdmin(config, "list topics", async (admin) => {
      const exists = (await admin.listTopics()).includes(topic);
      return {
        message: exists
          ? `topic "${topic}" exists`
          : `init would create topic "${topic}" (${config.partitions} partitions, replication ${config.replication_factor})`,
      };
    });
  },
  async status(config: KafkaOutputConfig): Promise<LifecycleOutcome> {
    const topic = outputTopic(config);
    return withAdmin(config, "list topics", async (admin) => {
      const exists = (await admin.listTopics()).includes(topic);
      return exists
        ? { message: `topic "${topic}" exists`, resources: [{ type: "kafka_topic", name: topic }] }
        : {
            status: "Failed",
            message: `topic "${topic}" does not exist (dstream init creates it)`,
          };
    });
  },
  async destroy(config: KafkaOutputConfig): Promise<LifecycleOutcome> {
    const topic = outputTopic(config);
    return withAdmin(config, `delete topic "${topic}"`, async (admin) => {
      const id = await topicId(admin, topic);
      if (id === undefined) return { message: `topic "${topic}" does not exist` };
      if ((await readCreatedTopic(config, topic))?.id !== id) {
        return {
          message: `left topic "${topic}" in place: dstream init did not create it (it is not in "${createdTopicsLog}"); delete it yourself if you mean to`,
        };
      }
      try {
        await admin.deleteTopics({ topics: [topic] });
      } catch (error) {
        if (!protocolErrorId(error, ["UNKNOWN_TOPIC_OR_PARTITION"])) throw error;
      }
      await writeCreatedTopic(config, topic, null);
      return { message: `deleted topic "${topic}" (created by dstream init)` };
    });
  },
};

interface PartitionLag {
  type: "kafka_partition_lag";
  topic: string;
  partition: number;
  /** The group's committed offset, null when it has none for the partition. */
  committed: number | null;
  /** The log end offset. */
  end: number;
  lag: number;
}

/**
 * Lag of `group_id` per partition: the log end offset minus the group's committed offset; where
 * the group has none, what a new member would read (`start`: all from the log start, or nothing).
 */
async function groupLag(config: KafkaInputConfig): Promise<LifecycleOutcome> {
  const consumer = new Consumer({ ...clientOptions(config), groupId: config.group_id });
  try {
    const rows = await within(
      partitionLags(consumer, config),
      config.connect_timeout_ms + 5000,
      () =>
        `kafka: cannot reach the brokers ${brokerList(config).join(", ")} within ${config.connect_timeout_ms} ms; check bootstrap_servers`,
    );
    const total = rows.reduce((sum, row) => sum + row.lag, 0);
    const uncommitted = rows.filter((row) => row.committed === null).length;
    const note =
      uncommitted === 0
        ? ""
        : ` (${uncommitted} without a committed offset, counted from start = "${config.start}")`;
    return {
      message: `group "${config.group_id}": ${total} messages behind on ${rows.length} partitions${note}`,
      resources: rows,
    };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("kafka:")) throw error;
    throw new Error(
      describeKafkaError(error, config, `read the lag of group "${config.group_id}"`),
      { cause: error },
    );
  } finally {
    await consumer.close().catch(() => {});
  }
}

async function partitionLags(
  consumer: Consumer,
  config: KafkaInputConfig,
): Promise<PartitionLag[]> {
  const ends = await consumer.listOffsets({ topics: config.topics });
  // ListOffsets' timestamp -2 asks for the log start offset.
  const starts = await consumer.listOffsets({ topics: config.topics, timestamp: -2n });
  const committed = await consumer.listCommittedOffsets({
    topics: [...ends].map(([topic, offsets]) => ({
      topic,
      partitions: offsets.map((_, partition) => partition),
    })),
  });
  const rows: PartitionLag[] = [];
  for (const [topic, offsets] of ends) {
    offsets.forEach((end, partition) => {
      const at = committed.get(topic)?.[partition] ?? -1n;
      const from =
        at >= 0n ? at : config.start === "earliest" ? (starts.get(topic)?.[partition] ?? 0n) : end;
      rows.push({
        type: "kafka_partition_lag",
        topic,
        partition,
        committed: at >= 0n ? Number(at) : null,
        end: Number(end),
        lag: Number(end - from),
      });
    });
  }
  return rows;
}

export const inputLifecycle = { status: groupLag };
