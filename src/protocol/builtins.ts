// Names of the providers built into dstream and the roles each can play; config validates against
// this list and src/providers implements every entry.

export type ProviderRole = "input" | "output";

export const builtinProviders = {
  counter: ["input"],
  console: ["output"],
  null: ["output"],
  file: ["input", "output"],
  kafka: ["input", "output"],
  nats: ["input", "output"],
  "http-poll": ["input"],
  http: ["output"],
  s3: ["input", "output"],
  postgres: ["output"],
  "postgres-cdc": ["input"],
} as const satisfies Record<string, readonly ProviderRole[]>;

export type BuiltinProviderName = keyof typeof builtinProviders;

export const builtinProviderNames: BuiltinProviderName[] =
  Object.keys(builtinProviders).filter(isBuiltinProvider);

export function isBuiltinProvider(name: string): name is BuiltinProviderName {
  return Object.hasOwn(builtinProviders, name);
}
