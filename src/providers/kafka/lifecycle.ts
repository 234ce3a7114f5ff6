// kafka lifecycle: init creates the output topic, destroy deletes it, status shows topics and a
// group's lag per partition; each opens an admin client for the one command.
import { Admin, Consumer } from "@platformatic/kafka";
import type { LifecycleOutcome } from "../../sdk/index.ts";
import {
  brokerList,
  clientOptions,
  describeKafkaError,
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

export const outputLifecycle = {
  async init(config: KafkaOutputConfig): Promise<LifecycleOutcome> {
    const topic = outputTopic(config);
    return withAdmin(config, `create topic "${topic}"`, async (admin) => {
      const resource = { type: "kafka_topic", name: topic };
      try {
        await admin.createTopics({
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
      try {
        await admin.deleteTopics({ topics: [topic] });
      } catch (error) {
        if (protocolErrorId(error, ["UNKNOWN_TOPIC_OR_PARTITION"])) {
          return { message: `topic "${topic}" does not exist` };
        }
        throw error;
      }
      return { message: `deleted topic "${topic}"` };
    });
  },
};

/** Lag of `group_id` per partition: the log end offset minus the group's committed offset. */
async function groupLag(config: KafkaInputConfig): Promise<LifecycleOutcome> {
  const consumer = new Consumer({ ...clientOptions(config), groupId: config.group_id });
  try {
    const lag = await within(
      consumer.getLag({ topics: config.topics }),
      config.connect_timeout_ms + 5000,
      () =>
        `kafka: cannot reach the brokers ${brokerList(config).join(", ")} within ${config.connect_timeout_ms} ms; check bootstrap_servers`,
    );
    const resources: { type: string; topic: string; partition: number; lag: number | null }[] = [];
    for (const [topic, partitions] of lag) {
      partitions.forEach((value, partition) => {
        // The client gives -1 for a partition the group has not committed yet.
        resources.push({
          type: "kafka_partition_lag",
          topic,
          partition,
          lag: value < 0n ? null : Number(value),
        });
      });
    }
    const total = resources.reduce((sum, row) => sum + (row.lag ?? 0), 0);
    return { message: `group "${config.group_id}": ${total} messages behind`, resources };
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

export const inputLifecycle = { status: groupLag };
