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
    async run({ args }) {
      // A provider process ends as the SDK's serve() ends one, at once: a read of stdin it may
      // still have pending (after a stop) cannot be cancelled and would keep the process alive.
      process.exit(await runBuiltinProvider(args.name));
    },
  }),
  {
    examples: [
      `echo '{"command":"run","config":{"maxCount":3,"interval":0}}' | DSTREAM_ROLE=input dstream __provider counter`,
    ],
  },
);
