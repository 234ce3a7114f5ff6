// The top-level state block: the file backend by default, the postgres backend's settings, templates
// in connection_string (an unset env var only fails what opens the store), and exact messages.
import { describe, expect, test } from "bun:test";
import { parseConfig, parseTaskList } from "../../../src/config/load.ts";
import { DstreamError } from "../../../src/errors.ts";
import { openStateStore } from "../../../src/state/index.ts";
import { fixedNow, loadProblems, location } from "./harness.ts";

const task = `task "t" {
  input {
    provider = "counter"
  }
  output {
    provider = "console"
  }
}
`;

async function stateOf(block: string, env: Record<string, string> = {}) {
  return (await parseConfig(`${block}${task}`, location, { env, now: fixedNow })).state;
}

describe("state block", () => {
  test("without one, the file backend under .dstream beside the config", async () => {
    expect(await stateOf("")).toEqual({ backend: "file", path: "/work/cfg/.dstream" });
    expect(await stateOf('state {\n  path = "/var/lib/dstream"\n}\n')).toEqual({
      backend: "file",
      path: "/var/lib/dstream",
    });
  });

  test("postgres: schema and table default to public.dstream_state", async () => {
    expect(
      await stateOf(
        'state {\n  backend = "postgres"\n  connection_string = "postgres://u:p@db:5432/app"\n}\n',
      ),
    ).toEqual({
      backend: "postgres",
      connectionString: "postgres://u:p@db:5432/app",
      schema: "public",
      table: "dstream_state",
    });
    expect(
      await stateOf(
        'state {\n  backend = "postgres"\n  connection_string = "postgresql://db/app"\n  schema = "ops"\n  table = "pipeline_state"\n}\n',
      ),
    ).toMatchObject({ schema: "ops", table: "pipeline_state" });
  });

  test("connection_string renders templates like the rest of the config", async () => {
    const block =
      'state {\n  backend = "postgres"\n  connection_string = "postgres://dstream:{{ env `STATE_PASSWORD` }}@{{ env `STATE_HOST` | default `localhost` }}/app"\n}\n';
    expect(await stateOf(block, { STATE_PASSWORD: "s3cret" })).toMatchObject({
      connectionString: "postgres://dstream:s3cret@localhost/app",
    });
  });

  test("an unset env var in connection_string fails only what opens the store", async () => {
    const block =
      'state {\n  backend = "postgres"\n  connection_string = "{{ env `STATE_URL` }}"\n}\n';
    const listed = await parseTaskList(`${block}${task}`, location, { env: {} });
    expect(listed.tasks.map((listing) => listing.name)).toEqual(["t"]);
    const state = await stateOf(block);
    let error: unknown;
    try {
      openStateStore(state);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DstreamError);
    expect((error as DstreamError).message).toBe(
      'state › connection_string: environment variable STATE_URL is not set (use {{ env "STATE_URL" | default "..." }} to make it optional)',
    );
    expect((error as DstreamError).exitCode).toBe(2);
  });

  test.each([
    [
      "an unknown backend",
      'state {\n  backend = "mysql"\n}\n',
      ['dstream.hcl:2:3: state › backend: backend must be "file" or "postgres"'],
    ],
    [
      "postgres without connection_string",
      'state {\n  backend = "postgres"\n}\n',
      ['dstream.hcl:1:1: state: backend = "postgres" needs connection_string (a postgres:// URL)'],
    ],
    [
      "a connection_string that is not a postgres URL (not echoed: it may hold a password)",
      'state {\n  backend = "postgres"\n  connection_string = "host=db password=hunter2"\n}\n',
      [
        "dstream.hcl:3:3: state › connection_string: connection_string must be a postgres:// or postgresql:// URL",
      ],
    ],
    [
      "a connection_string that is not a string",
      'state {\n  backend = "postgres"\n  connection_string = 5432\n}\n',
      ["dstream.hcl:3:3: state › connection_string: connection_string must be a string"],
    ],
    [
      "path with the postgres backend",
      'state {\n  backend = "postgres"\n  connection_string = "postgres://db/app"\n  path = "x"\n}\n',
      ['dstream.hcl:4:3: state › path: path is only for backend = "file"'],
    ],
    [
      "postgres settings with the file backend",
      'state {\n  connection_string = "postgres://db/app"\n  table = "t"\n}\n',
      [
        'dstream.hcl:2:3: state › connection_string: connection_string is only for backend = "postgres"',
        'dstream.hcl:3:3: state › table: table is only for backend = "postgres"',
      ],
    ],
    [
      "a table name that is not a lowercase SQL name",
      'state {\n  backend = "postgres"\n  connection_string = "postgres://db/app"\n  table = "Pipeline-State"\n}\n',
      [
        "dstream.hcl:4:3: state › table: table must be a lowercase SQL name: a-z, 0-9 and _, not starting with a digit, at most 57 characters",
      ],
    ],
    [
      "a table name too long for its _locks table",
      `state {\n  backend = "postgres"\n  connection_string = "postgres://db/app"\n  table = "${"t".repeat(58)}"\n}\n`,
      [
        "dstream.hcl:4:3: state › table: table must be a lowercase SQL name: a-z, 0-9 and _, not starting with a digit, at most 57 characters",
      ],
    ],
    [
      "a schema name that is not a lowercase SQL name",
      'state {\n  backend = "postgres"\n  connection_string = "postgres://db/app"\n  schema = "1st"\n}\n',
      [
        "dstream.hcl:4:3: state › schema: schema must be a lowercase SQL name: a-z, 0-9 and _, not starting with a digit, at most 63 characters",
      ],
    ],
    [
      "an unknown attribute",
      'state {\n  backend = "postgres"\n  connection_string = "postgres://db/app"\n  host = "db"\n}\n',
      [
        'dstream.hcl:4:3: state › host: unknown attribute "host" (allowed: backend, path, connection_string, schema, table)',
      ],
    ],
    [
      "a template error other than an unset env var",
      'state {\n  backend = "postgres"\n  connection_string = "postgres://{{ env `A`"\n}\n',
      [
        'dstream.hcl:3:3: state › connection_string: unclosed template action "{{ env `A`" (missing "}}")',
      ],
    ],
  ])("%s", async (_name, block, problems) => {
    expect(await loadProblems(`${block}${task}`)).toEqual(problems);
  });
});
