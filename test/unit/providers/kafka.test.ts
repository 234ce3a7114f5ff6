// kafka pieces without a broker: the checkpoint's shape both ways, positions that stay what they
// were when made, topic names from topic_prefix, and the one-line errors of message building.
import { describe, expect, test } from "bun:test";
import {
  brokerList,
  closedAtOnce,
  describeKafkaError,
} from "../../../src/providers/kafka/connection.ts";
import { messagesOf, topicFor } from "../../../src/providers/kafka/messages.ts";
import { offsetsCheckpoint, parseOffsetsCheckpoint } from "../../../src/providers/kafka/offsets.ts";
import { Batch } from "../../../src/sdk/index.ts";

const encoder = new TextEncoder();
const batchOf = (lines: string[], first = 1) => {
  const encoded = lines.map((line) => encoder.encode(line));
  return new Batch(
    encoded,
    first,
    encoded.reduce((sum, line) => sum + line.length, 0),
  );
};

describe("kafka checkpoint", () => {
  test("round trip: next offset per topic and partition", () => {
    const positions = new Map([
      ["orders:0", 10n],
      ["orders:2", 7n],
      ["a:b:c:1", 3n],
    ]);
    const checkpoint = offsetsCheckpoint(positions);
    expect(checkpoint).toEqual({ offsets: { orders: { "0": 10, "2": 7 }, "a:b:c": { "1": 3 } } });
    expect(parseOffsetsCheckpoint(JSON.parse(JSON.stringify(checkpoint)))).toEqual(positions);
    expect(parseOffsetsCheckpoint(null)).toEqual(new Map());
  });

  test.each([
    [{ value: 1 }],
    [{ offsets: { t: { x: 1 } } }],
    [{ offsets: { t: { "0": -1 } } }],
    [{ offsets: { t: 5 } }],
  ])("%j is refused in one line naming the fix", (checkpoint) => {
    expect(() => parseOffsetsCheckpoint(checkpoint)).toThrow(
      `kafka: checkpoint ${JSON.stringify(checkpoint)} is not a kafka position ({"offsets": {"<topic>": {"<partition>": n}}}); reset it with dstream state reset`,
    );
  });
});

describe("kafka messages", () => {
  test("topic_prefix joins metadata.table with a dot; characters Kafka refuses become _", () => {
    expect(topicFor("data_events", "Orders")).toBe("data_events.Orders");
    expect(topicFor("data_events", "dbo.Orders")).toBe("data_events.dbo.Orders");
    expect(topicFor("cdc", "order items/2024")).toBe("cdc.order_items_2024");
  });

  test("value and key: the line as it came, the data alone, a key from a dotted path", () => {
    const line = '{"data":{"id":7,"name":"x"},"metadata":{"table":"Orders","sequence":3}}';
    const rules = { max_message_bytes: 1000 };
    const [asIs] = messagesOf(batchOf([line]), { ...rules, topic: "t", value: "envelope" });
    expect(asIs?.topic).toBe("t");
    expect(asIs?.value.toString()).toBe(line);
    expect(asIs?.key).toBeUndefined();
    const [routed] = messagesOf(batchOf([line]), {
      ...rules,
      topic_prefix: "p",
      value: "data",
      key: "data.id",
    });
    expect(routed?.topic).toBe("p.Orders");
    expect(routed?.value.toString()).toBe('{"id":7,"name":"x"}');
    expect(routed?.key?.toString()).toBe("7");
  });

  test("an event too large names its sequence, or its line number when it has none", () => {
    const rules = { max_message_bytes: 20, topic: "t", value: "envelope" as const };
    expect(() =>
      messagesOf(batchOf(['{"data":"a long value here","metadata":{"sequence":9}}']), rules),
    ).toThrow("kafka: event 9 is 54 bytes, over max_message_bytes (20)");
    expect(() => messagesOf(batchOf(["{}", '{"data":"a long value here"}'], 40), rules)).toThrow(
      "kafka: event line 41 is 28 bytes",
    );
  });

  test("bootstrap_servers: the seed's comma form or a list; a bare host gets 9092", () => {
    const base = { client_id: "d", connect_timeout_ms: 1000 };
    expect(brokerList({ ...base, bootstrap_servers: "a:1, b" })).toEqual(["a:1", "b:9092"]);
    expect(brokerList({ ...base, bootstrap_servers: ["c:3"] })).toEqual(["c:3"]);
  });
});

describe("kafka connection failures", () => {
  const closed = { code: "PLT_KFK_NETWORK", message: "Connection closed" };
  const refused = {
    code: "PLT_KFK_NETWORK",
    message: "Connection to 127.0.0.1:9092 failed.",
    cause: { code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:9092" },
  };
  const retried = (...errors: unknown[]) => ({
    code: "PLT_KFK_MULTIPLE",
    message: "metadata failed 3 times.",
    errors,
  });
  test.each([
    ["every attempt closed at once", retried(closed, closed, closed), true],
    ["one attempt", closed, true],
    ["closed once, then refused (a broker going away)", retried(closed, refused), false],
    ["refused", retried(refused, refused), false],
    ["not a network error", { code: "PLT_KFK_USER", message: "Unknown topic t." }, false],
  ])("closedAtOnce: %s", (_, error, expected) => {
    expect(closedAtOnce(error)).toBe(expected);
  });

  const base = { bootstrap_servers: "127.0.0.1:9094", client_id: "dstream", connect_timeout_ms: 1 };
  test.each([
    [{}, "does it require SASL or TLS? set sasl { } or tls"],
    [{ tls: true }, "does it require SASL or TLS? set sasl { }"],
    [
      { sasl: { mechanism: "PLAIN" as const, username: "u", password: "p" }, tls: true },
      "check the SASL mechanism and TLS settings against its listener",
    ],
  ])("a connection closed at once with %j says what to set", (settings, fix) => {
    expect(describeKafkaError(retried(closed, closed), { ...base, ...settings }, "connect")).toBe(
      `kafka: the brokers 127.0.0.1:9094 closed the connection at once: ${fix}`,
    );
  });
});
