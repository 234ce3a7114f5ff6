// Flag groups shared by several commands, spread into each command's args.
import type { ArgsDef } from "citty";

export const globalArgs = {
  "log-level": {
    type: "enum",
    options: ["debug", "info", "warn", "error"],
    description: "Log level (also DSTREAM_LOG_LEVEL)",
    valueHint: "level",
  },
  "log-format": {
    type: "enum",
    options: ["pretty", "json"],
    description: "Log format on stderr (also DSTREAM_LOG_FORMAT)",
    valueHint: "format",
  },
} as const satisfies ArgsDef;

export const configArgs = {
  config: {
    type: "string",
    alias: "c",
    description: "Config file (else DSTREAM_CONFIG, else ./dstream.hcl)",
    valueHint: "path",
  },
} as const satisfies ArgsDef;

export const jsonArgs = {
  json: { type: "boolean", description: "Print JSON for scripts" },
} as const satisfies ArgsDef;
