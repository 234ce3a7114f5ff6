// defineInput / defineOutput: typed constructors that tag a definition with its role.
import type { ConfigSchema, InputDefinition, OutputDefinition } from "./types.ts";

export type InputProvider<S extends ConfigSchema> = InputDefinition<S> & { role: "input" };
export type OutputProvider<S extends ConfigSchema> = OutputDefinition<S> & { role: "output" };

export function defineInput<S extends ConfigSchema>(
  definition: InputDefinition<S>,
): InputProvider<S> {
  return { ...definition, role: "input" };
}

export function defineOutput<S extends ConfigSchema>(
  definition: OutputDefinition<S>,
): OutputProvider<S> {
  return { ...definition, role: "output" };
}
