// dstream version: version, commit, Bun version and platform.
import { defineCommand } from "citty";
import { versionInfo } from "../../version.ts";
import { globalArgs, jsonArgs } from "../args.ts";
import { withHelp } from "../help.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream version",
      description: "Print version, git commit, Bun version and platform",
    },
    args: { ...jsonArgs, ...globalArgs },
    run({ args }) {
      const info = versionInfo();
      if (args.json) {
        process.stdout.write(`${JSON.stringify(info)}\n`);
        return;
      }
      process.stdout.write(
        `dstream ${info.version} (commit ${info.commit}, bun ${info.bun}, ${info.platform})\n`,
      );
    },
  }),
  { examples: ["dstream version", "dstream version --json"] },
);
