// dstream __provider <name> (hidden): runs a built-in provider; dstream starts its built-ins this way.
import { defineCommand } from "citty";
import { runBuiltinProvider } from "../../providers/index.ts";
import { withHelp } from "../help.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream __provider",
      description: "Run a built-in provider over protocol v1 (used by dstream run)",
      hidden: true,
    },
    args: {
      name: { type: "positional", required: true, description: "Built-in provider name" },
    },
    run({ args }) {
      return runBuiltinProvider(args.name);
    },
  }),
  {
    examples: [
      `echo '{"command":"run","config":{"maxCount":3,"interval":0}}' | DSTREAM_ROLE=input dstream __provider counter`,
    ],
  },
);
