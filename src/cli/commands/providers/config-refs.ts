// The provider_refs of a config file's tasks (all, or the named ones) and the lock file beside it.
import { type LoadedConfig, loadConfig } from "../../../config/index.ts";
import { DstreamError } from "../../../errors.ts";
import type { ProviderReference } from "../../../registry/index.ts";
import { lockFilePathFor } from "../../../runtime/index.ts";

export interface ConfigRefs {
  references: ProviderReference[];
  lockFilePath: string;
}

function taskRefs(config: LoadedConfig, taskNames: string[]): ProviderReference[] {
  const known = new Set(config.tasks.map((task) => task.name));
  for (const name of taskNames) {
    if (!known.has(name)) {
      throw new DstreamError(
        "TASK_NOT_FOUND",
        `task "${name}" is not in ${config.location.display} (tasks: ${[...known].join(", ")})`,
      );
    }
  }
  const chosen = config.tasks.filter(
    (task) => taskNames.length === 0 || taskNames.includes(task.name),
  );
  const references = new Map<string, ProviderReference>();
  for (const task of chosen) {
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
  // Provider refs need no secrets: an unset env var in a provider's config does not block a pull.
  const config = await loadConfig({ flag: configFlag, requireEnv: false });
  return {
    references: taskRefs(config, taskNames),
    lockFilePath: lockFilePathFor(config.location.path),
  };
}
