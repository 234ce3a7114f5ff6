// Help text: usage, arguments, flags and the examples each command registers, left-aligned columns.
import type { ArgDef, CommandDef, CommandMeta } from "citty";

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

async function resolve<T>(value: T | (() => T) | (() => Promise<T>) | Promise<T> | undefined) {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** Two columns, the first padded to its widest cell. */
export function columns(rows: [string, string][], indent = "  "): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`.trimEnd());
}

function flagText(name: string, def: ArgDef): string {
  const aliases = "alias" in def && def.alias ? [def.alias].flat() : [];
  const spellings = [
    ...aliases.map((alias) => (alias.length === 1 ? `-${alias}` : `--${alias}`)),
    `--${name}`,
  ];
  const hint =
    "valueHint" in def && def.valueHint
      ? def.valueHint
      : def.type === "enum"
        ? (def.options ?? []).join("|")
        : "value";
  return `${spellings.join(", ")}${def.type === "boolean" ? "" : ` <${hint}>`}`;
}

export async function renderHelp(command: AnyCommand): Promise<string> {
  const meta = ((await resolve(command.meta)) ?? {}) as CommandMeta;
  const args = ((await resolve(command.args)) ?? {}) as Record<string, ArgDef>;
  const subCommands = (await resolve(command.subCommands)) as
    | Record<string, AnyCommand>
    | undefined;
  const { examples, variadic } = helpExtras(command);
  const positionals = Object.entries(args).filter(([, def]) => def.type === "positional");
  const flags = Object.entries(args).filter(([, def]) => def.type !== "positional");
  const usageParts = positionals.map(([name, def], index) => {
    const more = variadic && index === positionals.length - 1 ? "..." : "";
    return def.required === false ? `[${name}${more}]` : `<${name}${more}>`;
  });
  const lines = [
    `${meta.description ?? ""}`,
    "",
    `USAGE ${[meta.name, subCommands ? "<command>" : "", ...usageParts, flags.length > 0 ? "[flags]" : ""].filter(Boolean).join(" ")}`,
  ];
  if (subCommands) {
    const rows: [string, string][] = [];
    for (const [name, sub] of Object.entries(subCommands)) {
      const resolved = await resolve(sub);
      const subMeta = ((await resolve(resolved?.meta)) ?? {}) as CommandMeta;
      rows.push([name, subMeta.description ?? ""]);
    }
    lines.push("", "COMMANDS", "", ...columns(rows));
  }
  if (positionals.length > 0) {
    lines.push(
      "",
      "ARGUMENTS",
      ...columns(positionals.map(([name, def]) => [name, def.description ?? ""])),
    );
  }
  if (flags.length > 0) {
    const rows = flags.map(([name, def]): [string, string] => {
      const fallback =
        "default" in def && def.default !== undefined && def.type !== "boolean"
          ? ` (default ${def.default})`
          : "";
      return [flagText(name, def), `${def.description ?? ""}${fallback}`];
    });
    lines.push("", "FLAGS", "", ...columns(rows));
  }
  if (examples.length > 0)
    lines.push("", "EXAMPLES", "", ...examples.map((example) => `  ${example}`));
  return lines.join("\n");
}
