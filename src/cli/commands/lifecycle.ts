// dstream init|plan|status|destroy <task>: lifecycle commands sent to a task's providers.
import { defineCommand } from "citty";
import { loadTask } from "../../config/index.ts";
import type { LifecycleCommand } from "../../protocol/index.ts";
import {
  type LifecycleAnswer,
  lifecycleFailure,
  runLifecycleCommand,
} from "../../runtime/index.ts";
import { configArgs, globalArgs, jsonArgs } from "../args.ts";
import { withHelp } from "../help.ts";
import { logger } from "../logger.ts";
import { downloadProgressBar } from "../progress-bar.ts";
import { parseDuration } from "../units.ts";

const descriptions: Record<LifecycleCommand, string> = {
  init: "Ask a task's providers to create what they need (tables, topics, slots)",
  plan: "Ask a task's providers what init or run would change",
  status: "Ask a task's providers for their current state",
  destroy: "Ask a task's providers to remove what init created",
};

function formatAnswer(answer: LifecycleAnswer): string[] {
  // A provider that answered Success but then failed (killed, non-zero exit) did not succeed.
  const status = answer.ok ? (answer.result?.status ?? "Success") : "Failed";
  const message = answer.problem ?? answer.result?.message ?? "";
  const lines = [`${answer.role} (${answer.label}): ${status}${message ? ` - ${message}` : ""}`];
  for (const resource of answer.result?.resources ?? []) {
    lines.push(`  ${typeof resource === "string" ? resource : JSON.stringify(resource)}`);
  }
  return lines;
}

export function lifecycleCommand(command: LifecycleCommand) {
  return withHelp(
    defineCommand({
      meta: { name: `dstream ${command}`, description: descriptions[command] },
      args: {
        task: { type: "positional", description: "Task name from the config file", required: true },
        ...configArgs,
        provider: {
          type: "enum",
          options: ["input", "output", "both"],
          default: "output",
          description: "Which provider gets the command",
          valueHint: "input|output|both",
        },
        timeout: {
          type: "string",
          default: "60s",
          description: "How long each provider gets to answer",
          valueHint: "duration",
        },
        ...jsonArgs,
        ...globalArgs,
      },
      async run({ args }) {
        const timeoutMs = parseDuration("--timeout", String(args.timeout));
        // Only this task's env vars must be set; the others are checked for syntax and schema.
        const { task, location } = await loadTask({ flag: args.config, task: String(args.task) });
        const onDownload = downloadProgressBar();
        const answers = await runLifecycleCommand(task, command, {
          configPath: location.path,
          target: String(args.provider) as "input" | "output" | "both",
          timeoutMs,
          ...(onDownload ? { onDownload } : {}),
          notice: (line) => logger.warn(line),
        });
        if (args.json) {
          process.stdout.write(`${JSON.stringify(answers)}\n`);
        } else {
          process.stdout.write(`${answers.flatMap(formatAnswer).join("\n")}\n`);
        }
        const failure = lifecycleFailure(task, command, answers);
        if (failure) throw failure;
      },
    }),
    {
      examples: [
        `dstream ${command} my-pipeline`,
        `dstream ${command} my-pipeline --provider both -c dstream.hcl`,
        `dstream ${command} my-pipeline --json`,
      ],
    },
  );
}
