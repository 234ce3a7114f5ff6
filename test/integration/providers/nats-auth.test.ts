// nats against a server that requires a user and password (a server of the tests' own, on another
// port): the password comes from {{ env "..." }} and works; a wrong one fails with one line naming
// the server and the user, exit code 1, and the password appears nowhere.
import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { natsService, readStreamWithClient, startNats, uniqueName } from "./nats-helpers.ts";

const PORT = "34242";
const PASSWORD = "s3cret-Pa55word";
const env = {
  DSTREAM_NATS_PORT: PORT,
  DSTREAM_NATS_USER: "dstream",
  DSTREAM_NATS_PASSWORD: PASSWORD,
};
const url = `nats://127.0.0.1:${PORT}`;
const folders: string[] = [];
/** The folder of the task being written: each test has its own (and so its own state). */
let folder = "";

beforeAll(async () => {
  startNats();
  natsService(env);
  await dstreamBinary();
}, 600_000);
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "dstream-nats-auth-"));
  folders.push(folder);
});
afterAll(() => {
  natsService(env, "stop");
  for (const made of folders) rmSync(made, { recursive: true, force: true });
});

function task(stream: string, login: string): string {
  const connection = `servers = "${url}"
      ${login}
      stream  = "${stream}"`;
  return `task "write" {
  input {
    provider = "file"
    config { path = "${join(folder, "in.jsonl")}" }
  }
  output {
    provider = "nats"
    config {
      ${connection}
      subject = "${stream}.e"
    }
  }
}

task "read" {
  input {
    provider = "nats"
    config {
      ${connection}
      durable = "reader"
    }
  }
  output {
    provider = "file"
    config { path = "${join(folder, `${stream}.jsonl`)}" }
  }
}
`;
}

const passwordFromEnv = `user = "dstream"
      password = "{{ env \\"NATS_PASSWORD\\" }}"`;

function writeTask(stream: string, login: string): string {
  const path = join(folder, `${stream}.hcl`);
  writeFileSync(path, task(stream, login));
  return path;
}

test("user and password from {{ env }}: init, write and read work", async () => {
  const stream = uniqueName("AUTH");
  const lines = [1, 2, 3].map((n) => JSON.stringify({ data: { n }, metadata: { sequence: n } }));
  writeFileSync(join(folder, "in.jsonl"), `${lines.join("\n")}\n`);
  const config = writeTask(stream, passwordFromEnv);
  const login = { env: { NATS_PASSWORD: PASSWORD } };
  const init = await runDstream(["init", "write", "-c", config], login);
  expect(init.stderr).toBe("");
  expect(init.exitCode).toBe(0);
  const written = await runDstream(["run", "write", "-c", config, "--quiet"], {
    ...login,
    timeoutMs: 30_000,
  });
  expect(written.stderr).toBe("");
  expect(written.exitCode).toBe(0);
  const stored = await readStreamWithClient(stream, { url, user: "dstream", password: PASSWORD });
  const sent = lines.map((line) => JSON.parse(line));
  expect(stored.map((text) => JSON.parse(text).data)).toEqual(sent);
  const reading = Bun.spawn([await dstreamBinary(), "run", "read", "-c", config, "--quiet"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: folder, NATS_PASSWORD: PASSWORD },
    stdout: "pipe",
    stderr: "pipe",
  });
  const archive = join(folder, `${stream}.jsonl`);
  const deadline = Date.now() + 30_000;
  const archived = () => {
    try {
      return readFileSync(archive, "utf8").split("\n").length - 1;
    } catch {
      return 0;
    }
  };
  while (archived() < 3 && Date.now() < deadline) await Bun.sleep(50);
  reading.kill("SIGTERM");
  const timer = setTimeout(() => reading.kill("SIGKILL"), 20_000);
  expect(await reading.exited).toBe(0);
  clearTimeout(timer);
  const read = readFileSync(archive, "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => (JSON.parse(line) as { data: { data: unknown } }).data.data);
  expect(read).toEqual(sent);
}, 120_000);

test.each([
  ["output", "write"],
  ["input", "read"],
])(
  "a wrong password: the %s fails with one line naming the server and the user, exit code 1, no password shown",
  async (role, taskName) => {
    const stream = uniqueName("BADPW");
    writeFileSync(join(folder, "in.jsonl"), '{"data":1}\n');
    const config = writeTask(stream, passwordFromEnv);
    const wrong = "not-the-Pa55word";
    const result = await runDstream(["run", taskName, "-c", config, "--quiet"], {
      env: { NATS_PASSWORD: wrong },
      timeoutMs: 30_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trimEnd().split("\n").pop()).toStartWith(
      `error: task "${taskName}": ${role} provider nats exited with code 1`,
    );
    expect(result.stderr).toContain(
      `nats: authentication failed as "dstream" at ${url}; check user and password (or token)`,
    );
    expect(result.stderr).not.toContain(wrong);
    expect(result.stdout).not.toContain(wrong);
  },
  60_000,
);

test("no credentials for a server that wants them: one line naming the server, exit code 1", async () => {
  const stream = uniqueName("NOPW");
  writeFileSync(join(folder, "in.jsonl"), '{"data":1}\n');
  const config = writeTask(stream, "");
  const result = await runDstream(["run", "write", "-c", config, "--quiet"], { timeoutMs: 30_000 });
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain(
    `nats: authentication failed at ${url}; check user and password (or token)`,
  );
}, 60_000);
