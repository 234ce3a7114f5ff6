// Feeds HCL source to the loader as if read from /work/cfg/dstream.hcl and returns tasks or problems.

import { type LoadOptions, parseConfig, type Task } from "../../../src/config/index.ts";
import { DstreamError } from "../../../src/errors.ts";

export const location = { path: "/work/cfg/dstream.hcl", display: "dstream.hcl" };

/** A fixed clock (UTC) for templates that call now or date. */
export const fixedNow = () => new Date("2026-03-04T05:06:07.089Z");

export async function loadTasks(source: string, options: LoadOptions = {}): Promise<Task[]> {
  const config = await parseConfig(source, location, { env: {}, now: fixedNow, ...options });
  return config.tasks;
}

/** The DstreamError a source fails with; fails the test when it loads. */
export async function loadError(source: string, options: LoadOptions = {}): Promise<DstreamError> {
  try {
    await loadTasks(source, options);
  } catch (error) {
    if (error instanceof DstreamError) return error;
    throw error;
  }
  throw new Error("expected the config to be rejected");
}

export async function loadProblems(source: string, options: LoadOptions = {}): Promise<string[]> {
  return [...(await loadError(source, options)).problems];
}

/** A task whose input is the counter with `config` as its body, output the console. */
export function taskWithInputConfig(config: string, name = "t"): string {
  return `task "${name}" {
  input {
    provider = "counter"
    config {
${config}
    }
  }
  output {
    provider = "console"
  }
}
`;
}

/** The env vars test/fixtures/dstream-user-examples.hcl reads. */
export const userExampleEnv = {
  DATABASE_CONNECTION_STRING: "Server=db;Database=shop;User Id=sa;Password=p@ss;",
  KAFKA_SERVERS: "kafka-1:9092,kafka-2:9092",
  API_TOKEN: "token-123",
  DB_CONN: "postgres://user:pw@localhost/db",
};
