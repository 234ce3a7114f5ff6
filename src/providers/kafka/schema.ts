// kafka input and output settings: loadable without the providers or the client library.
import * as v from "valibot";
import { configObject, nonEmptyString, wholeNumberFrom } from "../../sdk/config.ts";

/** "host:port", with or without a port (9092). */
const brokerPattern = /^[^\s:,]+(:\d{1,5})?$/;
const brokerAddress = v.pipe(
  nonEmptyString,
  v.regex(brokerPattern, 'must be "host:port" (e.g. "127.0.0.1:9092")'),
);

/** Kafka's own rule for topic names. */
export const topicNamePattern = /^[a-zA-Z0-9._-]{1,249}$/;

const topicName = v.pipe(
  nonEmptyString,
  v.regex(topicNamePattern, "must be 1-249 letters, digits, '.', '_' or '-'"),
);

const saslSchema = configObject({
  /** How the client authenticates: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. */
  mechanism: v.picklist(
    ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
    'must be "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"',
  ),
  /** The SASL user name. */
  username: nonEmptyString,
  /** The SASL password: use {{ env "..." }}, never a literal. */
  password: v.string("must be a string"),
});

const tlsSchema = configObject({
  /** A PEM file of the CA certificates to trust (default: the system's). */
  ca_file: v.optional(nonEmptyString),
  /** A PEM client certificate, for brokers that require mutual TLS. */
  cert_file: v.optional(nonEmptyString),
  /** The PEM private key of cert_file. */
  key_file: v.optional(nonEmptyString),
  /** Accept any server certificate: for tests only. */
  insecure_skip_verify: v.optional(v.boolean("must be true or false"), false),
});

/** Settings every kafka role shares: where the brokers are and how to reach them. */
const connectionEntries = {
  /** Brokers to start from: "host:port,host:port" (the seed's form) or a list. Required: no default cluster. */
  bootstrap_servers: v.union(
    [
      v.pipe(
        nonEmptyString,
        v.check(
          (text) => text.split(",").every((address) => brokerPattern.test(address.trim())),
          'must be "host:port" or "host:port,host:port" (e.g. "127.0.0.1:9092")',
        ),
      ),
      v.pipe(v.array(brokerAddress), v.minLength(1, "must name at least one broker")),
    ],
    'must be "host:port,host:port" or a list of "host:port"',
  ),
  /** The client id the brokers see in their logs and quotas. */
  client_id: v.optional(nonEmptyString, "dstream"),
  /** How long to wait for the brokers before failing with "cannot reach" (ms). */
  connect_timeout_ms: v.optional(wholeNumberFrom(100), 10_000),
  /** SASL authentication (PLAIN or SCRAM); omit for none. */
  sasl: v.optional(saslSchema),
  /** TLS to the brokers: true for the system's CAs, or files; omit for plaintext. */
  tls: v.optional(v.union([v.boolean(), tlsSchema], "must be true, false or an object")),
};

export const kafkaOutputConfigSchema = v.pipe(
  configObject({
    ...connectionEntries,
    /** The topic every event goes to (or use topic_prefix). */
    topic: v.optional(topicName),
    /** Events go to "<topic_prefix>.<metadata.table>" (the seed's sql-to-kafka form). */
    topic_prefix: v.optional(topicName),
    /** How an event becomes a message value: "json" (the only one). */
    serialization: v.optional(v.picklist(["json"], 'must be "json"'), "json"),
    /** "envelope": the whole event line as it came; "data": only its data field. */
    value: v.optional(v.picklist(["envelope", "data"], 'must be "envelope" or "data"'), "envelope"),
    /** A dotted path into the event for the message key (e.g. "data.id"); default: no key. */
    key: v.optional(nonEmptyString),
    /** Broker acknowledgements to wait for: "all" (every in-sync replica), "leader" or "none". */
    acks: v.optional(
      v.picklist(["all", "leader", "none"], 'must be "all", "leader" or "none"'),
      "all",
    ),
    /** An idempotent producer: broker-side retries never duplicate or reorder (needs acks "all"). */
    idempotent: v.optional(v.boolean("must be true or false"), true),
    /** Compression of each record batch. */
    compression: v.optional(
      v.picklist(
        ["none", "gzip", "snappy", "lz4", "zstd"],
        'must be "none", "gzip", "snappy", "lz4" or "zstd"',
      ),
      "none",
    ),
    /** Largest message accepted (bytes): a longer event fails naming its sequence (the broker's default). */
    max_message_bytes: v.optional(wholeNumberFrom(1), 1_048_576),
    /** Partitions of the topic that `dstream init` creates. */
    partitions: v.optional(wholeNumberFrom(1), 1),
    /** Replicas of the topic that `dstream init` creates. */
    replication_factor: v.optional(wholeNumberFrom(1), 1),
  }),
  v.check(
    (config) => (config.topic === undefined) !== (config.topic_prefix === undefined),
    "needs exactly one of topic or topic_prefix",
  ),
  v.check(
    (config) => !config.idempotent || config.acks === "all",
    'idempotent: needs acks = "all" (or set idempotent = false)',
  ),
);

export const kafkaInputConfigSchema = configObject({
  ...connectionEntries,
  /** Topics to consume. Required: nothing to read otherwise. */
  topics: v.pipe(
    v.array(topicName, "must be a list of topic names"),
    v.minLength(1, "must name at least one topic"),
  ),
  /** The consumer group: its committed offsets are where a new run starts. Required: it names your progress. */
  group_id: nonEmptyString,
  /** Where a group with no committed offset starts: "earliest" or "latest". */
  start: v.optional(
    v.picklist(["earliest", "latest"], 'must be "earliest" or "latest"'),
    "earliest",
  ),
  /** How a message value becomes the event's data: parsed "json", a UTF-8 "string", or "base64". */
  value: v.optional(
    v.picklist(["json", "string", "base64"], 'must be "json", "string" or "base64"'),
    "json",
  ),
  /** Broker session timeout of the group member (ms): how soon a dead process loses its partitions. */
  session_timeout_ms: v.optional(wholeNumberFrom(6000), 10_000),
});

export type KafkaConnectionConfig = {
  bootstrap_servers: string | string[];
  client_id: string;
  connect_timeout_ms: number;
  sasl?: v.InferOutput<typeof saslSchema> | undefined;
  tls?: boolean | v.InferOutput<typeof tlsSchema> | undefined;
};
export type KafkaOutputConfig = v.InferOutput<typeof kafkaOutputConfigSchema>;
export type KafkaInputConfig = v.InferOutput<typeof kafkaInputConfigSchema>;
