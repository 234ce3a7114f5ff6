// Runs a built-in provider in this process, in the role dstream asked for (DSTREAM_ROLE), and
// checks a built-in's settings with its own schema, loading only that schema.

import * as v from "valibot";
import {
  type BuiltinProviderName,
  builtinProviders,
  isBuiltinProvider,
  type ProviderRole,
  providerEnv,
} from "../protocol/index.ts";
import { runProvider } from "../sdk/index.ts";
import type { ConfigSchema, ProviderDefinition } from "../sdk/types.ts";

/** One role of a built-in: its settings' schema and the provider, each loaded on its own. */
interface BuiltinRole {
  schema: () => Promise<ConfigSchema>;
  provider: () => Promise<ProviderDefinition>;
}

/** Exactly the roles protocol/builtins.ts gives each name: the compiler holds the two together. */
type BuiltinTable = {
  [Name in BuiltinProviderName]: Record<(typeof builtinProviders)[Name][number], BuiltinRole>;
};

// Loaded lazily: a provider process compiles only the code of the provider it runs.
const builtins: BuiltinTable = {
  counter: {
    input: {
      schema: async () => (await import("./counter/schema.ts")).counterConfigSchema,
      provider: async () => (await import("./counter/index.ts")).counterInput,
    },
  },
  console: {
    output: {
      schema: async () => (await import("./console/schema.ts")).consoleConfigSchema,
      provider: async () => (await import("./console/index.ts")).consoleOutput,
    },
  },
  null: {
    output: {
      schema: async () => (await import("./null/schema.ts")).nullConfigSchema,
      provider: async () => (await import("./null/index.ts")).nullOutput,
    },
  },
  file: {
    input: {
      schema: async () => (await import("./file/schema.ts")).fileInputConfigSchema,
      provider: async () => (await import("./file/input.ts")).fileInput,
    },
    output: {
      schema: async () => (await import("./file/schema.ts")).fileOutputConfigSchema,
      provider: async () => (await import("./file/output.ts")).fileOutput,
    },
  },
  kafka: {
    input: {
      schema: async () => (await import("./kafka/schema.ts")).kafkaInputConfigSchema,
      provider: async () => (await import("./kafka/input.ts")).kafkaInput,
    },
    output: {
      schema: async () => (await import("./kafka/schema.ts")).kafkaOutputConfigSchema,
      provider: async () => (await import("./kafka/output.ts")).kafkaOutput,
    },
  },
  nats: {
    input: {
      schema: async () => (await import("./nats/schema.ts")).natsInputConfigSchema,
      provider: async () => (await import("./nats/input.ts")).natsInput,
    },
    output: {
      schema: async () => (await import("./nats/schema.ts")).natsOutputConfigSchema,
      provider: async () => (await import("./nats/output.ts")).natsOutput,
    },
  },
  "http-poll": {
    input: {
      schema: async () => (await import("./http-poll/schema.ts")).httpPollConfigSchema,
      provider: async () => (await import("./http-poll/input.ts")).httpPollInput,
    },
  },
  http: {
    output: {
      schema: async () => (await import("./http/schema.ts")).httpOutputConfigSchema,
      provider: async () => (await import("./http/output.ts")).httpOutput,
    },
  },
  s3: {
    input: {
      schema: async () => (await import("./s3/schema.ts")).s3InputConfigSchema,
      provider: async () => (await import("./s3/input.ts")).s3Input,
    },
    output: {
      schema: async () => (await import("./s3/schema.ts")).s3OutputConfigSchema,
      provider: async () => (await import("./s3/output.ts")).s3Output,
    },
  },
  postgres: {
    output: {
      schema: async () => (await import("./postgres/schema.ts")).postgresOutputConfigSchema,
      provider: async () => (await import("./postgres/output.ts")).postgresOutput,
    },
  },
  "postgres-cdc": {
    input: {
      schema: async () => (await import("./postgres-cdc/schema.ts")).postgresCdcConfigSchema,
      provider: async () => (await import("./postgres-cdc/input.ts")).postgresCdcInput,
    },
  },
};

function isRole(role: string): role is ProviderRole {
  return role === "input" || role === "output";
}

function roleOf(name: string, role: string): BuiltinRole | undefined {
  if (!isBuiltinProvider(name) || !isRole(role)) return undefined;
  const roles: Partial<Record<ProviderRole, BuiltinRole>> = builtins[name];
  return roles[role];
}

function usageError(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}

/** Runs built-in `name` over stdin/stdout; returns the exit code (2 for an unknown name or role). */
export async function runBuiltinProvider(name: string): Promise<number> {
  if (!isBuiltinProvider(name)) {
    const names = Object.keys(builtinProviders).join(", ");
    return usageError(`unknown built-in provider "${name}" (built-ins: ${names})`);
  }
  const roles: readonly ProviderRole[] = builtinProviders[name];
  const requested = process.env[providerEnv.role];
  const role = requested || (roles.length === 1 ? roles[0] : undefined);
  if (role === undefined) {
    return usageError(`built-in provider "${name}" needs ${providerEnv.role}=${roles.join("|")}`);
  }
  const entry = roleOf(name, role);
  if (!entry) {
    return usageError(`built-in provider "${name}" cannot be an ${role} (${providerEnv.role})`);
  }
  return runProvider(await entry.provider());
}

/** One problem of a built-in provider's config: the setting's dotted path ("" for the whole config). */
export interface BuiltinConfigProblem {
  path: string;
  message: string;
}

/**
 * What is wrong with a built-in provider's config, checked with its own schema (the one it parses
 * its config with) before anything starts; empty when valid or when the name is not a built-in.
 */
export async function builtinConfigProblems(
  name: string,
  role: ProviderRole,
  config: unknown,
): Promise<BuiltinConfigProblem[]> {
  const entry = roleOf(name, role);
  if (!entry) return [];
  const result = v.safeParse(await entry.schema(), config);
  if (result.success) return [];
  return result.issues.map((issue) => ({
    path: v.getDotPath(issue) ?? "",
    message: withStringHint(issue.message, issue.type, issue.input),
  }));
}

/** A number given as a string: most often a template, whose result is always a string. */
function withStringHint(message: string, expected: string, input: unknown): string {
  if (expected !== "number" || typeof input !== "string") return message;
  const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
  return `${message} (got the string ${JSON.stringify(shown)}: a {{ }} template always gives a string, so write the number itself, without quotes)`;
}
