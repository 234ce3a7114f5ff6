// nats (JetStream) input and output settings: loadable without the providers or the client library.
import * as v from "valibot";
import { configObject, nonEmptyString, wholeNumberFrom } from "../../sdk/config.ts";

/** JetStream's rule for stream and consumer names. */
const streamName = v.pipe(
  nonEmptyString,
  v.regex(/^[^\s.*>/\\]{1,255}$/, "must have no spaces, '.', '*', '>', '/' or '\\'"),
);

/** A subject to publish to: tokens separated by '.', no wildcards. */
const subjectName = v.pipe(
  nonEmptyString,
  v.regex(
    /^[^\s.*>]+(\.[^\s.*>]+)*$/,
    "must be tokens separated by '.', without spaces or wildcards",
  ),
);

/** A subject filter: tokens separated by '.', '*' and a last '>' allowed. */
const subjectFilter = v.pipe(
  nonEmptyString,
  v.regex(
    /^([^\s.>]+|>)(\.([^\s.>]+|>))*$/,
    "must be a subject, with '*' or a final '>' as wildcards",
  ),
);

/** Settings both roles share: where the servers are and how to log in. */
const connectionEntries = {
  /** Servers to connect to: "nats://host:4222", "host:4222,host:4223" or a list. Required: no default server. */
  servers: v.union(
    [
      nonEmptyString,
      v.pipe(v.array(nonEmptyString), v.minLength(1, "must name at least one server")),
    ],
    "must be a string or a list of strings",
  ),
  /** How long to wait for a server at start, and to reconnect after losing it, before failing (ms). */
  connect_timeout_ms: v.optional(wholeNumberFrom(100), 10_000),
  /** User name, for servers with user/password auth. */
  user: v.optional(nonEmptyString),
  /** Password of user: use {{ env "..." }}, never a literal. */
  password: v.optional(v.string("must be a string")),
  /** A token, for servers with token auth: use {{ env "..." }}. */
  token: v.optional(v.string("must be a string")),
  /** TLS to the servers: true for the system's CAs; omit for plaintext. */
  tls: v.optional(v.boolean("must be true or false"), false),
  /** The JetStream stream. Required: it is what stores the messages. */
  stream: streamName,
};

export const natsOutputConfigSchema = v.pipe(
  configObject({
    ...connectionEntries,
    /** The subject every event is published to (or use subject_prefix). */
    subject: v.optional(subjectName),
    /** Events go to "<subject_prefix>.<metadata.table>". */
    subject_prefix: v.optional(subjectName),
    /** "envelope": the whole event line as it came; "data": only its data field, as JSON. */
    value: v.optional(v.picklist(["envelope", "data"], 'must be "envelope" or "data"'), "envelope"),
    /** Publishes awaiting their stream ack at once: more is faster, and holds more in memory. */
    max_pending: v.optional(wholeNumberFrom(1), 4096),
  }),
  v.check(
    (config) => (config.subject === undefined) !== (config.subject_prefix === undefined),
    "needs exactly one of subject or subject_prefix",
  ),
);

export const natsInputConfigSchema = configObject({
  ...connectionEntries,
  /** The durable pull consumer: created when missing; its acks are the progress. Required: it names your progress. */
  durable: streamName,
  /** Only messages on these subjects (default: all of the stream's). */
  filter_subject: v.optional(subjectFilter),
  /** Where a new durable starts: "all" the stream holds, or only "new" messages. */
  start: v.optional(v.picklist(["all", "new"], 'must be "all" or "new"'), "all"),
  /** How a message becomes the event's data: parsed "json", a UTF-8 "string", or "base64". */
  value: v.optional(
    v.picklist(["json", "string", "base64"], 'must be "json", "string" or "base64"'),
    "json",
  ),
  /** How long JetStream waits for an ack before it redelivers (ms): longer than dstream takes to commit. */
  ack_wait_ms: v.optional(wholeNumberFrom(1000), 30_000),
  /** Messages delivered but not yet acked at most (a new durable's max_ack_pending). */
  max_ack_pending: v.optional(wholeNumberFrom(1), 20_000),
});

export type NatsConnectionConfig = {
  servers: string | string[];
  connect_timeout_ms: number;
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
  tls: boolean;
};
export type NatsOutputConfig = v.InferOutput<typeof natsOutputConfigSchema>;
export type NatsInputConfig = v.InferOutput<typeof natsInputConfigSchema>;
