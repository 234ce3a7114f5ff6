// Protocol messages (DESIGN.md, v1 and v2): the command envelope, the handshake, lifecycle results.
import * as v from "valibot";

export const lifecycleCommands = ["init", "plan", "status", "destroy"] as const;
export type LifecycleCommand = (typeof lifecycleCommands)[number];
/** The command an envelope carries: a run, or a lifecycle command. */
export type EnvelopeCommand = "run" | LifecycleCommand;

/** First line on a provider's stdin. */
export interface CommandEnvelope {
  command: EnvelopeCommand;
  config: Record<string, unknown>;
  /** 2 from a dstream that speaks protocol v2; absent from a v1 one. */
  protocol?: number | undefined;
  /** v2: the task's last committed checkpoint (an input's resume point), null when none. */
  checkpoint?: unknown;
}

export const commandEnvelopeSchema = v.object({
  command: v.picklist(
    ["run", ...lifecycleCommands],
    "command must be run, init, plan, status or destroy",
  ),
  config: v.optional(v.record(v.string(), v.unknown()), {}),
  protocol: v.optional(v.number("protocol must be a number")),
  checkpoint: v.optional(v.unknown()),
});

/** Optional first stdout line: consumed by dstream, never relayed. */
export const handshakeSchema = v.variant("status", [
  v.looseObject({ status: v.literal("ready"), protocol: v.optional(v.number()) }),
  v.looseObject({ status: v.literal("error"), message: v.optional(v.string(), "") }),
]);
export type Handshake = v.InferOutput<typeof handshakeSchema>;

/** What a provider prints for init|plan|status|destroy. */
export const lifecycleResultSchema = v.looseObject({
  status: v.picklist(["Success", "Failed"]),
  message: v.optional(v.string(), ""),
  resources: v.optional(v.array(v.unknown()), []),
});
export type LifecycleResult = v.InferOutput<typeof lifecycleResultSchema>;

/** A data line: `{"data": <any>, "metadata": {...}}`. dstream itself never parses these on the hot path. */
export interface Envelope<T = unknown> {
  data: T;
  metadata?: Record<string, unknown>;
}

/** Environment variables dstream adds for every provider it starts. */
export const providerEnv = { task: "DSTREAM_TASK", role: "DSTREAM_ROLE" } as const;

/** Parses a line as a handshake; undefined when it is anything else (data, or output text). */
export function parseHandshake(line: string): Handshake | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  // A data envelope that happens to carry a status field is data, not a handshake.
  if ("data" in value) return undefined;
  const result = v.safeParse(handshakeSchema, value);
  return result.success ? result.output : undefined;
}
