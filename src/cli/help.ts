// Help text: citty's usage plus the examples each command registers.
import { type CommandDef, renderUsage } from "citty";

// biome-ignore lint/suspicious/noExplicitAny: CommandDef is invariant in its args; tables hold every shape.
export type AnyCommand = CommandDef<any>;

interface HelpExtras {
  examples: string[];
  /** The last positional takes any number of values (`providers pull [task...]`). */
  variadic?: boolean;
}

const extras = new WeakMap<object, HelpExtras>();

/** Attaches examples (and variadic positionals) to a command definition. */
export function withHelp<T extends AnyCommand>(command: T, options: HelpExtras): T {
  extras.set(command, options);
  return command;
}

export function helpExtras(command: object): HelpExtras {
  return extras.get(command) ?? { examples: [] };
}

export async function renderHelp(command: AnyCommand): Promise<string> {
  const usage = Bun.stripANSI(await renderUsage(command));
  const { examples } = helpExtras(command);
  if (examples.length === 0) return usage;
  return `${usage}\n\nEXAMPLES\n\n${examples.map((example) => `  ${example}`).join("\n")}`;
}
