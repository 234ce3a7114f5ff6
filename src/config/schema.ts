// The shape of a task, as valibot schemas: the one source for parsing, defaults and error messages.
import * as v from "valibot";
import { parseReference } from "../oci/index.ts";
import { builtinProviderNames, builtinProviders, isBuiltinProvider } from "../protocol/builtins.ts";

/** Marks an unknown key so the loader can say "attribute" or "block" from the source outline. */
export const UNKNOWN_KEY = "unknown-key";

const unknownKeyText = (key: string, allowed: readonly string[]) =>
  `${JSON.stringify(key)} is not allowed here (allowed: ${allowed.join(", ")})`;

/** An object schema that reports every unknown key, not just the first as strictObject does. */
function closedObject<const TEntries extends v.ObjectEntries>(entries: TEntries, what: string) {
  const allowed = Object.keys(entries);
  return v.pipe(
    v.looseObject(entries, (issue) =>
      issue.received === "undefined" && issue.expected?.startsWith('"')
        ? `${issue.expected.slice(1, -1)} block is missing`
        : `${what} must be a block`,
    ),
    v.rawCheck(({ dataset, addIssue }) => {
      // Runs on untyped objects too, so unknown keys are reported beside missing ones.
      if (typeof dataset.value !== "object" || dataset.value === null) return;
      const input = dataset.value as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (allowed.includes(key)) continue;
        addIssue({
          expected: UNKNOWN_KEY,
          message: unknownKeyText(key, allowed),
          path: [
            {
              type: "object",
              origin: "value",
              input,
              key,
              value: input[key],
            },
          ],
        });
      }
    }),
  );
}

const sourceKeys = ["provider_ref", "provider_path", "provider"] as const;

function providerSchema(role: "input" | "output") {
  return v.pipe(
    closedObject(
      {
        provider_ref: v.optional(
          v.pipe(
            v.string("provider_ref must be a string"),
            v.rawCheck(({ dataset, addIssue }) => {
              if (!dataset.typed) return;
              const parsed = parseReference(dataset.value);
              if ("error" in parsed) addIssue({ message: parsed.error });
            }),
          ),
        ),
        provider_path: v.optional(
          v.pipe(v.string("provider_path must be a string"), v.nonEmpty("provider_path is empty")),
        ),
        provider: v.optional(
          v.pipe(
            v.string("provider must be a string"),
            v.rawCheck(({ dataset, addIssue }) => {
              if (!dataset.typed) return;
              const name = dataset.value;
              if (!isBuiltinProvider(name)) {
                addIssue({
                  message: `unknown built-in provider "${name}" (built-ins: ${builtinProviderNames.join(", ")})`,
                });
              } else if (!(builtinProviders[name] as readonly string[]).includes(role)) {
                addIssue({ message: `built-in provider "${name}" cannot be an ${role}` });
              }
            }),
          ),
        ),
        config: v.optional(
          // Not v.record: it lets arrays through, and a provider expects a JSON object.
          v.custom<Record<string, unknown>>(
            (value) => typeof value === "object" && value !== null && !Array.isArray(value),
            "config must be a block or an object",
          ),
          {},
        ),
      },
      role,
    ),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const set = sourceKeys.filter((key) => dataset.value[key] !== undefined);
      if (set.length !== 1) {
        addIssue({ message: `set exactly one of ${sourceKeys.join(", ")}` });
      }
    }),
  );
}

export const taskSchema = closedObject(
  {
    type: v.optional(
      v.picklist(["providers"], 'type must be "providers" (the only task type)'),
      "providers",
    ),
    input: providerSchema("input"),
    output: providerSchema("output"),
  },
  "task",
);

export type TaskInput = v.InferOutput<typeof taskSchema>;

/** Keys valibot leaves out of an object's output (prototype safety), so closedObject never sees them. */
const droppedKeys = ["__proto__", "constructor", "prototype"];

/** The unknown keys among droppedKeys in a task's fields and its input and output, as closedObject words them. */
export function droppedKeyIssues(
  task: Record<string, unknown>,
): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const check = (value: unknown, path: string[], allowed: readonly string[]) => {
    if (typeof value !== "object" || value === null) return;
    for (const key of droppedKeys) {
      if (Object.hasOwn(value, key)) {
        issues.push({ path: [...path, key], message: unknownKeyText(key, allowed) });
      }
    }
  };
  const providerKeys = Object.keys(taskSchema.entries.input.entries);
  check(task, [], Object.keys(taskSchema.entries));
  check(task.input, ["input"], providerKeys);
  check(task.output, ["output"], providerKeys);
  return issues;
}
