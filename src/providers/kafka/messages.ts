// How an event line becomes a Kafka message: its topic (fixed, or prefix + table), key and value.
import type { Batch } from "../../sdk/index.ts";
import { topicNamePattern } from "./schema.ts";

export interface OutgoingMessage {
  topic: string;
  key?: Buffer;
  value: Buffer;
}

export interface MessageRules {
  topic?: string | undefined;
  topic_prefix?: string | undefined;
  value: "envelope" | "data";
  key?: string | undefined;
  max_message_bytes: number;
}

/** Characters Kafka does not allow in a topic name become "_" (a table named "dbo.Orders" stays). */
export function topicFor(prefix: string, table: string): string {
  const topic = `${prefix}.${table.replace(/[^a-zA-Z0-9._-]/g, "_")}`;
  return topic.slice(0, 249);
}

/** The event's sequence as its metadata gives it, else its line number in this run. */
export function sequenceOf(batch: Batch, index: number): string {
  try {
    const sequence = (batch.envelope(index).metadata as { sequence?: unknown } | undefined)
      ?.sequence;
    if (typeof sequence === "number" || typeof sequence === "string") return String(sequence);
  } catch {
    // Not JSON: the line number is all there is.
  }
  return `line ${batch.firstLineNumber + index}`;
}

function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function keyBytes(key: unknown): Buffer | undefined {
  if (key === undefined || key === null) return undefined;
  return Buffer.from(typeof key === "string" ? key : JSON.stringify(key));
}

export class MessageTooLargeError extends Error {
  override readonly name = "MessageTooLargeError";
}

/** The batch's messages in order; throws one line naming the event when one cannot be sent. */
export function messagesOf(batch: Batch, rules: MessageRules): OutgoingMessage[] {
  const messages: OutgoingMessage[] = new Array(batch.size);
  const needsEnvelope =
    rules.topic === undefined || rules.key !== undefined || rules.value === "data";
  for (let index = 0; index < batch.size; index++) {
    const line = batch.lines[index] as Uint8Array;
    const envelope = needsEnvelope ? batch.envelope(index) : undefined;
    const value =
      rules.value === "data"
        ? Buffer.from(JSON.stringify(envelope?.data ?? null))
        : Buffer.from(line.buffer, line.byteOffset, line.byteLength);
    if (value.length > rules.max_message_bytes) {
      throw new MessageTooLargeError(
        `kafka: event ${sequenceOf(batch, index)} is ${value.length} bytes, over max_message_bytes (${rules.max_message_bytes}); raise it together with the topic's max.message.bytes, or make the event smaller`,
      );
    }
    let topic = rules.topic;
    if (topic === undefined) {
      const table = (envelope?.metadata as { table?: unknown } | undefined)?.table;
      if (typeof table !== "string" || table === "") {
        throw new Error(
          `kafka: event ${sequenceOf(batch, index)} has no metadata.table, which topic_prefix needs to name its topic; set topic instead`,
        );
      }
      topic = topicFor(rules.topic_prefix as string, table);
      if (!topicNamePattern.test(topic)) {
        throw new Error(`kafka: event ${sequenceOf(batch, index)}: "${topic}" is not a topic name`);
      }
    }
    const key = rules.key ? keyBytes(valueAt(envelope, rules.key)) : undefined;
    messages[index] = key ? { topic, key, value } : { topic, value };
  }
  return messages;
}
