// nats output: publishes each event to JetStream and waits for the stream's acks; a checkpoint is
// acknowledged only once the stream has stored every message before it.
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { type Batch, defineOutput } from "../../sdk/index.ts";
import { closeWithin, connectNats } from "./connection.ts";
import { outputLifecycle, requireStream } from "./lifecycle.ts";
import { Publisher } from "./publisher.ts";
import { type NatsOutputConfig, natsOutputConfigSchema } from "./schema.ts";

export { natsOutputConfigSchema };

const encoder = new TextEncoder();

/** The event's sequence as its metadata gives it, else its line number in this run. */
function sequenceOf(batch: Batch, index: number): string {
  try {
    const sequence = (batch.envelope(index).metadata as { sequence?: unknown } | undefined)
      ?.sequence;
    if (typeof sequence === "number" || typeof sequence === "string") return String(sequence);
  } catch {
    // Not JSON: the line number is all there is.
  }
  return `line ${batch.firstLineNumber + index}`;
}

function subjectOf(batch: Batch, index: number, config: NatsOutputConfig): string {
  if (config.subject) return config.subject;
  const table = (batch.envelope(index).metadata as { table?: unknown } | undefined)?.table;
  if (typeof table !== "string" || table === "") {
    throw new Error(
      `nats: event ${sequenceOf(batch, index)} has no metadata.table, which subject_prefix needs to name its subject; set subject instead`,
    );
  }
  return `${config.subject_prefix}.${table.replace(/[\s.*>]/g, "_")}`;
}

function payloadOf(batch: Batch, index: number, config: NatsOutputConfig): Uint8Array {
  if (config.value === "data")
    return encoder.encode(JSON.stringify(batch.envelope(index).data ?? null));
  return batch.lines[index] as Uint8Array;
}

export const natsOutput = defineOutput({
  schema: natsOutputConfigSchema,
  batch: { maxLines: 1000, maxBytes: 1024 * 1024 },
  ...outputLifecycle,
  async open({ config }) {
    const connection = await connectNats(config);
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(connection);
      await requireStream(jsm, config.stream);
    } catch (error) {
      await closeWithin(connection);
      throw error;
    }
    const maxPayload = connection.info?.max_payload ?? 1024 * 1024;
    const publisher = new Publisher(connection, jsm, config);
    const flush = () => publisher.waitUntilAtMost(0);
    return {
      async write(batch) {
        publisher.check();
        for (let index = 0; index < batch.size; index++) {
          const payload = payloadOf(batch, index, config);
          if (payload.length > maxPayload) {
            throw new Error(
              `nats: event ${sequenceOf(batch, index)} is ${payload.length} bytes, over the server's max_payload (${maxPayload}); raise max_payload in nats-server's config or make the event smaller`,
            );
          }
          publisher.publish(
            subjectOf(batch, index, config),
            payload,
            () => `event ${sequenceOf(batch, index)}`,
          );
          if (publisher.size >= config.max_pending)
            await publisher.waitUntilAtMost(config.max_pending - 1);
        }
        publisher.check();
      },
      flush,
      async close() {
        try {
          await flush();
        } finally {
          await closeWithin(connection);
        }
      },
    };
  },
});
