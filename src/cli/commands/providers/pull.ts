// dstream providers pull [task...]: download and verify this machine's binary of each provider_ref.
import { defineCommand } from "citty";
import { formatPlatform, hostPlatform } from "../../../oci/index.ts";
import { resolveProviderRef } from "../../../registry/index.ts";
import { configArgs, globalArgs } from "../../args.ts";
import { withHelp } from "../../help.ts";
import { logger } from "../../logger.ts";
import { downloadProgressBar } from "../../progress-bar.ts";
import { configRefs } from "./config-refs.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream providers pull",
      description:
        "Download and verify the providers the tasks pull by provider_ref (all tasks by default)",
    },
    args: {
      task: {
        type: "positional",
        required: false,
        description: "Task names",
        valueHint: "task...",
      },
      upgrade: {
        type: "boolean",
        description: "Re-resolve tags even when the lock file pins them",
      },
      ...configArgs,
      ...globalArgs,
    },
    async run({ args }) {
      const { references, lockFilePath } = await configRefs(args.config, args._);
      if (references.length === 0) {
        logger.info("no task uses provider_ref: nothing to pull");
        return;
      }
      const platform = formatPlatform(hostPlatform());
      const onDownload = downloadProgressBar();
      for (const reference of references) {
        // A pull re-hashes cached binaries (a run trusts them, to start fast).
        const resolved = await resolveProviderRef(reference, {
          lockFilePath,
          verifyCache: true,
          ...(args.upgrade ? { upgrade: true } : {}),
          ...(onDownload ? { onDownload } : {}),
        });
        if (resolved.replacedCorrupt) {
          logger.warn(
            `the cached ${platform} binary of ${reference.original} no longer matched ${resolved.digest}: it was downloaded again`,
          );
        }
        process.stdout.write(`${reference.original}  ${platform}  ${resolved.digest}\n`);
      }
    },
  }),
  {
    variadic: true,
    examples: [
      "dstream providers pull",
      "dstream providers pull orders customers",
      "dstream providers pull --upgrade -c pipelines/prod.hcl",
    ],
  },
);
