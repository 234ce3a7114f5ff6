// Strict flag checking: citty accepts unknown flags silently; a typo must fail loudly (exit 2).
import type { ArgsDef } from "citty";
import { DstreamError } from "../errors.ts";

const kebab = (name: string) => name.replace(/[A-Z]/g, (char) => `-${char.toLowerCase()}`);
const camel = (name: string) => name.replace(/-([a-z])/g, (_, char: string) => char.toUpperCase());

/** Checks every flag of `argv` against `args`; returns nothing or throws a usage error. */
export function checkFlags(commandName: string, args: ArgsDef, argv: string[], variadic: boolean) {
  const valueFlags = new Set<string>();
  const known = new Set<string>(["--help", "-h"]);
  let positionals = 0;
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") {
      positionals++;
      continue;
    }
    const alias = "alias" in def ? def.alias : undefined;
    const aliases: string[] = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    const spellings = [
      `--${name}`,
      `--${kebab(name)}`,
      `--${camel(name)}`,
      ...aliases.map((alias) => (alias.length === 1 ? `-${alias}` : `--${alias}`)),
    ];
    for (const spelling of spellings) {
      known.add(spelling);
      if (def.type === "boolean") known.add(spelling.replace(/^--/, "--no-"));
      else valueFlags.add(spelling);
    }
  }
  const hint = `see dstream ${commandName} --help`;
  let seenPositionals = 0;
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] ?? "";
    if (token === "--") break;
    if (token.startsWith("-") && token !== "-") {
      const flag = token.includes("=") ? token.slice(0, token.indexOf("=")) : token;
      if (!known.has(flag)) {
        throw new DstreamError(
          "USAGE",
          `unknown flag ${flag} for dstream ${commandName} (${hint})`,
        );
      }
      if (valueFlags.has(flag) && !token.includes("=")) {
        if (index + 1 >= argv.length) {
          throw new DstreamError("USAGE", `flag ${flag} needs a value (${hint})`);
        }
        index++;
      }
      continue;
    }
    seenPositionals++;
    if (seenPositionals > positionals && !(variadic && positionals > 0)) {
      throw new DstreamError(
        "USAGE",
        `unexpected argument "${token}" for dstream ${commandName} (${hint})`,
      );
    }
  }
}
