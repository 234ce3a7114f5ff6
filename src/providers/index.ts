// Runs a built-in provider in this process, in the role dstream asked for (DSTREAM_ROLE).

import * as v from "valibot";
import {
  builtinProviders,
  isBuiltinProvider,
  type ProviderRole,
  providerEnv,
} from "../protocol/index.ts";
import { runProvider } from "../sdk/index.ts";
import type { ProviderDefinition } from "../sdk/types.ts";

type Loader = () => Promise<ProviderDefinition>;

// Loaded lazily: a provider process compiles only the code of the provider it runs.
const implementations: Record<string, Partial<Record<ProviderRole, Loader>>> = {
  counter: {
    input: async () => (await import("./counter/index.ts")).counterInput as ProviderDefinition,
  },
  console: {
    output: async () => (await import("./console/index.ts")).consoleOutput as ProviderDefinition,
  },
  null: { output: async () => (await import("./null/index.ts")).nullOutput as ProviderDefinition },
  file: {
    input: async () => (await import("./file/input.ts")).fileInput as ProviderDefinition,
    output: async () => (await import("./file/output.ts")).fileOutput as ProviderDefinition,
  },
};

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
  const load = implementations[name]?.[role as ProviderRole];
  if (!load) {
    return usageError(`built-in provider "${name}" cannot be an ${role} (${providerEnv.role})`);
  }
  return runProvider(await load());
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
  const load = implementations[name]?.[role];
  if (!load) return [];
  const result = v.safeParse((await load()).schema, config);
  if (result.success) return [];
  return result.issues.map((issue) => ({
    path: v.getDotPath(issue) ?? "",
    message: issue.message,
  }));
}
