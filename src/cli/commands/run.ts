// dstream run <task>: run one pipeline until its input ends or a signal stops it.
import { defineCommand } from "citty";
import { loadTask } from "../../config/index.ts";
import { runTask } from "../../runtime/index.ts";
import { configArgs, globalArgs } from "../args.ts";
import { withHelp } from "../help.ts";
import { logger } from "../logger.ts";
import { downloadProgressBar } from "../progress-bar.ts";
import { checkStatsJsonPath } from "../stats-path.ts";
import { parseDuration, parseSize } from "../units.ts";

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream run",
      description: "Run a task: its input provider's events into its output provider",
    },
    args: {
      task: { type: "positional", description: "Task name from the config file", required: true },
      ...configArgs,
      "buffer-bytes": {
        type: "string",
        default: "8MiB",
        description: "Most bytes dstream holds for a slow output before it stops reading the input",
        valueHint: "size",
      },
      "max-line-bytes": {
        type: "string",
        default: "16MiB",
        description: "Longest line accepted; a longer one fails the task",
        valueHint: "size",
      },
      "shutdown-timeout": {
        type: "string",
        default: "10s",
        description: "After a stop signal, how long providers get before SIGKILL",
        valueHint: "duration",
      },
      quiet: { type: "boolean", alias: "q", description: "No live display and no summary line" },
      "stats-json": {
        type: "string",
        description: "Write the run's counters as JSON to this file",
        valueHint: "file",
      },
      upgrade: {
        type: "boolean",
        description: "Re-resolve provider_ref tags instead of using the lock file",
      },
      ...globalArgs,
    },
    async run({ args }) {
      const bufferBytes = parseSize("--buffer-bytes", args["buffer-bytes"]);
      const maxLineBytes = parseSize("--max-line-bytes", args["max-line-bytes"]);
      const shutdownTimeoutMs = parseDuration("--shutdown-timeout", args["shutdown-timeout"]);
      const statsJsonPath = checkStatsJsonPath(args["stats-json"]);
      // Only this task's env vars must be set; the others are checked for syntax and schema.
      const { task, location, state } = await loadTask({ flag: args.config, task: args.task });
      const quiet = args.quiet === true;
      const live = !quiet && process.stderr.isTTY === true;
      await runTask(task, {
        configPath: location.path,
        state,
        bufferBytes,
        maxLineBytes,
        shutdownTimeoutMs,
        live,
        // The download bar shows where the live display would (a terminal), never with --quiet.
        ...(live ? { onDownload: downloadProgressBar() } : {}),
        statsJsonPath,
        upgrade: args.upgrade === true,
        log: (line) => {
          if (!quiet) logger.info(line);
        },
        // Warnings show even with --quiet (which hides progress, not trouble).
        warn: (line) => logger.warn(line),
      });
    },
  }),
  {
    examples: [
      "dstream run my-pipeline",
      "dstream run my-pipeline -c examples/quickstart.hcl",
      "dstream run orders --buffer-bytes 32MiB --shutdown-timeout 30s --stats-json stats.json",
    ],
  },
);
