// dstream providers lock: pin every provider_ref of the config, for all platforms, in dstream.lock.hcl.
import { defineCommand } from "citty";
import { lockProviderRefs } from "../../../registry/index.ts";
import { configArgs, globalArgs } from "../../args.ts";
import { withHelp } from "../../help.ts";
import { logger } from "../../logger.ts";
import { configRefs } from "./config-refs.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream providers lock",
      description:
        "Write dstream.lock.hcl beside the config: each provider_ref's digest and every platform's binary sha256",
    },
    args: {
      upgrade: { type: "boolean", description: "Re-resolve tags that the lock file already pins" },
      ...configArgs,
      ...globalArgs,
    },
    async run({ args }) {
      const { references, lockFilePath } = await configRefs(args.config, []);
      const changes = await lockProviderRefs(references, {
        lockFilePath,
        ...(args.upgrade ? { upgrade: true } : {}),
      });
      if (references.length === 0) logger.info("no task uses provider_ref: nothing to lock");
      for (const change of changes) {
        process.stdout.write(
          `${change.change.padEnd(9)} ${change.reference}  ${change.digest}  ${change.platforms.join(" ")}\n`,
        );
      }
    },
  }),
  {
    examples: [
      "dstream providers lock",
      "dstream providers lock --upgrade",
      "dstream providers lock -c pipelines/prod.hcl",
    ],
  },
);
