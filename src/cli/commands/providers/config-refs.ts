// The provider_refs of a config file's tasks (all, or the named ones) and the lock file beside it.
import { type LoadedConfig, listTasks, loadConfig } from "../../../config/index.ts";
import { DstreamError } from "../../../errors.ts";
import type { ProviderReference } from "../../../oci/index.ts";
import { lockFilePathFor } from "../../../runtime/index.ts";

export interface ConfigRefs {
  references: ProviderReference[];
  lockFilePath: string;
}

function taskRefs(config: LoadedConfig): ProviderReference[] {
  const references = new Map<string, ProviderReference>();
  for (const task of config.tasks) {
    for (const spec of [task.input, task.output]) {
      if (spec.source.kind === "ref") {
        references.set(spec.source.reference.original, spec.source.reference);
      }
    }
  }
  return [...references.values()];
}

export async function configRefs(
  configFlag: string | undefined,
  taskNames: string[],
): Promise<ConfigRefs> {
  if (taskNames.length > 0) {
    // Names first, from the listing (which needs no env var at all).
    const listing = await listTasks({ flag: configFlag });
    const known = listing.tasks.map((task) => task.name);
    const unknown = taskNames.find((name) => !known.includes(name));
    if (unknown !== undefined) {
      throw new DstreamError(
        "TASK_NOT_FOUND",
        `task "${unknown}" is not in ${listing.location.display} (tasks: ${known.join(", ")})`,
      );
    }
  }
  // Provider refs need no secrets: an unset env var in a provider's config does not block a pull,
  // and only the named tasks' provider_refs must render.
  const config = await loadConfig({ flag: configFlag, requireEnv: false, only: taskNames });
  return {
    references: taskRefs(config),
    lockFilePath: lockFilePathFor(config.location.path),
  };
}
