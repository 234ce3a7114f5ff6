// The bash provider printed in docs/provider-authoring.md works as written: run it as dstream would.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { baseEnv, dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { ready, runToEnd } from "./helpers.ts";

const doc = readFileSync(resolve(import.meta.dir, "../../../docs/provider-authoring.md"), "utf8");
const folder = mkdtempSync(join(tmpdir(), "dstream-doc-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function bashInput(): string {
  const match = /<!-- provider-authoring:bash-input -->\n```bash\n([\s\S]*?)```/.exec(doc);
  if (!match?.[1]) throw new Error("the marked bash provider is missing from the doc");
  const path = join(folder, "seq-input.sh");
  writeFileSync(path, match[1]);
  chmodSync(path, 0o755);
  return path;
}

test("the bash input speaks protocol v1", async () => {
  const script = bashInput();
  const run = await runToEnd([script], { role: "input", config: { count: 2 } });
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toBe(
    `${ready}{"data":{"n":1},"metadata":{"sequence":1}}\n{"data":{"n":2},"metadata":{"sequence":2}}\n`,
  );
  expect(run.stderr).toBe("emitted 2 events\n");
  const bad = await runToEnd([script], { role: "input", config: { count: "many" } });
  expect(bad.exitCode).toBe(1);
  expect(bad.stdout).toBe('{"status":"error","message":"count: must be a whole number"}\n');
  const plan = await runToEnd([script], { command: "plan" });
  expect(plan.stdout).toBe('{"status":"Success","message":"nothing to do","resources":[]}\n');
});

test("the bash input runs under dstream into the console built-in", async () => {
  bashInput();
  writeFileSync(
    join(folder, "dstream.hcl"),
    `task "bash-to-console" {
  input {
    provider_path = "./seq-input.sh"
    config { count = 3 }
  }
  output {
    provider = "console"
  }
}
`,
  );
  const result = await runDstream(["run", "bash-to-console", "--quiet"], { cwd: folder });
  expect(result.stdout).toBe('Message #1: {"n":1}\nMessage #2: {"n":2}\nMessage #3: {"n":3}\n');
  expect(result.exitCode).toBe(0);
});

test("the bash input stopped by SIGTERM while blocked on a full pipe: every line it counts is written whole", async () => {
  // Its stdout goes to a reader that waits 1 s: the pipe fills and printf blocks, so the signal
  // interrupts a write (the trap the doc explains; `trap 'exit 0' TERM` drops that line).
  const script = bashInput();
  const envelopeFile = join(folder, "bash-envelope.json");
  writeFileSync(envelopeFile, '{"command":"run","config":{"count":1000000}}\n');
  for (let attempt = 0; attempt < 3; attempt++) {
    const pidFile = join(folder, `bash-stop-${attempt}.pid`);
    const errFile = join(folder, `bash-stop-${attempt}.err`);
    const shell = Bun.spawn(
      [
        "bash",
        "-c",
        '"$1" < "$2" > >(sleep 1; exec cat) 2>"$3" & echo $! > "$4"; wait',
        "stop-test",
        script,
        envelopeFile,
        errFile,
        pidFile,
      ],
      { cwd: folder, env: baseEnv(), stdout: "pipe", stderr: "pipe" },
    );
    const deadline = Date.now() + 10_000;
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() === "") {
      if (Date.now() > deadline) throw new Error("the bash input did not start");
      await Bun.sleep(10);
    }
    await Bun.sleep(300);
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGTERM");
    const stdout = await new Response(shell.stdout).text();
    expect(await shell.exited).toBe(0);
    const stderr = readFileSync(errFile, "utf8");
    const emitted = Number(/^emitted (\d+) events\n$/.exec(stderr)?.[1] ?? Number.NaN);
    expect({ attempt, stderr, stopped: emitted > 0 && emitted < 1_000_000 }).toEqual({
      attempt,
      stderr: `emitted ${emitted} events\n`,
      stopped: true,
    });
    const events = Array.from(
      { length: emitted },
      (_, index) => `{"data":{"n":${index + 1}},"metadata":{"sequence":${index + 1}}}\n`,
    );
    expect(stdout).toBe(`${ready}${events.join("")}`);
  }
});

function pythonProvider(marker: string, name: string): string {
  const pattern = new RegExp(
    `<!-- provider-authoring:${marker} -->\\n\`\`\`python\\n([\\s\\S]*?)\`\`\``,
  );
  const match = pattern.exec(doc);
  if (!match?.[1]) throw new Error(`the marked Python provider ${marker} is missing from the doc`);
  const path = join(folder, name);
  writeFileSync(path, match[1]);
  chmodSync(path, 0o755);
  return path;
}

test("the Python v2 input stopped by SIGTERM while its write is blocked on a full pipe: no line cut, the last checkpoint covers every event", async () => {
  // The trap the doc warns of: with PYTHONUNBUFFERED=1 (as container images often set),
  // sys.stdout.buffer.write of a chunk interrupted by the handler writes part of it and cut a
  // line here; the doc's os.write loop must not.
  const script = pythonProvider("python-v2-input", "v2-input-stop.py");
  const envelopeFile = join(folder, "python-envelope.json");
  writeFileSync(
    envelopeFile,
    '{"command":"run","protocol":2,"checkpoint":null,"config":{"count":1000000}}\n',
  );
  for (let attempt = 0; attempt < 3; attempt++) {
    const pidFile = join(folder, `python-stop-${attempt}.pid`);
    const shell = Bun.spawn(
      [
        "bash",
        "-c",
        '"$1" < "$2" > >(sleep 2.5; exec cat) 2>/dev/null & echo $! > "$3"; wait',
        "stop-test",
        script,
        envelopeFile,
        pidFile,
      ],
      { cwd: folder, env: { ...baseEnv(), PYTHONUNBUFFERED: "1" }, stdout: "pipe", stderr: "pipe" },
    );
    const deadline = Date.now() + 10_000;
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() === "") {
      if (Date.now() > deadline) throw new Error("the Python input did not start");
      await Bun.sleep(10);
    }
    // Started and blocked on the full pipe long before this.
    await Bun.sleep(1000);
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGTERM");
    const stdout = await new Response(shell.stdout).text();
    expect(await shell.exited).toBe(0);
    const lines = stdout.split("\n");
    expect({ attempt, end: lines.pop(), first: lines.shift() }).toEqual({
      attempt,
      end: "",
      first: '{"status":"ready","protocol":2}',
    });
    let events = 0;
    let checkpoint = -1;
    for (const line of lines) {
      const parsed = JSON.parse(line) as { checkpoint?: { n: number }; data?: { n: number } };
      if (parsed.checkpoint) {
        checkpoint = parsed.checkpoint.n;
        continue;
      }
      events++;
      expect(parsed.data?.n).toBe(events);
    }
    expect({ attempt, stopped: events > 0 && events < 1_000_000, checkpoint }).toEqual({
      attempt,
      stopped: true,
      checkpoint: events,
    });
  }
});

test("the Python v2 input and output resume where they stopped: every event once across runs", async () => {
  pythonProvider("python-v2-input", "v2-input.py");
  pythonProvider("python-v2-output", "v2-output.py");
  const config = (count: number) => `task "py" {
  input {
    provider_path = "./v2-input.py"
    config { count = ${count} }
  }
  output {
    provider_path = "./v2-output.py"
    config { path = "events.jsonl" }
  }
}
`;
  writeFileSync(join(folder, "py.hcl"), config(1000));
  const first = await runDstream(["run", "py", "-c", "py.hcl", "--quiet"], { cwd: folder });
  expect(first.exitCode).toBe(0);
  const shown = await runDstream(["state", "show", "py", "-c", "py.hcl"], { cwd: folder });
  expect(JSON.parse(shown.stdout).checkpoint).toEqual({ n: 1000 });
  writeFileSync(join(folder, "py.hcl"), config(1500));
  const second = await runDstream(["run", "py", "-c", "py.hcl", "--quiet"], { cwd: folder });
  expect(second.exitCode).toBe(0);
  const numbers = readFileSync(join(folder, "events.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line).data.n);
  expect(numbers).toEqual(Array.from({ length: 1500 }, (_, index) => index + 1));
});

test("the Python v2 providers stopped by SIGTERM at random moments, then restarted: every event exactly once, no line cut", async () => {
  // The doc's examples under the stops users make. (The buffered-write trap the doc warns of,
  // a chunk cut when the signal handler runs mid-write, needs a write blocked on a full pipe at
  // that moment: this test does not force that, so it checks the protocol, not that trap.)
  pythonProvider("python-v2-input", "v2-input.py");
  pythonProvider("python-v2-output", "v2-output.py");
  const count = 40_000;
  writeFileSync(
    join(folder, "stops.hcl"),
    `task "stops" {
  input {
    provider_path = "./v2-input.py"
    config { count = ${count} }
  }
  output {
    provider_path = "./v2-output.py"
    config { path = "stopped.jsonl" }
  }
}
`,
  );
  // Seeded moments, so a failure can be replayed.
  let seed = 0x5eed;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const binary = await dstreamBinary();
  for (let stop = 0; stop < 4; stop++) {
    const child = Bun.spawn([binary, "run", "stops", "-c", "stops.hcl", "--quiet"], {
      cwd: folder,
      env: baseEnv(),
      stdout: "ignore",
      stderr: "pipe",
    });
    await Bun.sleep(300 + next() * 700);
    child.kill("SIGTERM");
    const stderr = await new Response(child.stderr).text();
    // The input logs its commits on stderr; nothing else may be there.
    const unexpected = stderr.split("\n").filter((line) => line && !line.includes("committed"));
    expect({ stop, exitCode: await child.exited, unexpected }).toEqual({
      stop,
      exitCode: 0,
      unexpected: [],
    });
  }
  const last = await runDstream(["run", "stops", "-c", "stops.hcl", "--quiet"], {
    cwd: folder,
    timeoutMs: 60_000,
  });
  expect(last.exitCode).toBe(0);
  const numbers = readFileSync(join(folder, "stopped.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line).data.n);
  expect(numbers.length).toBe(count);
  expect(numbers).toEqual(Array.from({ length: count }, (_, index) => index + 1));
}, 120_000);
