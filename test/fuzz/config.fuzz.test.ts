// Hundreds of seeded mutations of real config files fed to the loader: each must end in a valid
// config or a clean DstreamError (one-line problems, no stack trace), never a crash or a hang.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseConfig, parseTask, parseTaskList } from "../../src/config/load.ts";
import { DstreamError } from "../../src/errors.ts";
import { userExampleEnv } from "../unit/config/harness.ts";

const repoRoot = resolve(import.meta.dir, "../..");
const sources = [
  join(repoRoot, "test/fixtures/dstream-user-examples.hcl"),
  ...readdirSync(join(repoRoot, "examples"))
    .filter((name) => name.endsWith(".hcl"))
    .map((name) => join(repoRoot, "examples", name)),
].map((path) => readFileSync(path, "utf8"));

const MUTATIONS_PER_STRATEGY = 150;
const PER_CASE_TIMEOUT_MS = 5_000;

/** mulberry32: small, seeded, the same sequence on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (text: string, next: () => number) => string;
const at = (text: string, next: () => number) => Math.floor(next() * text.length);
// Characters that matter to HCL and templates: the likeliest to reach odd corners.
const inserts = [
  '"',
  "{",
  "}",
  "[",
  "]",
  "=",
  "\n",
  "\\",
  "$",
  "%",
  "`",
  "#",
  "/",
  "*",
  "<",
  "|",
  "\0",
  "é",
];

const strategies: Record<string, Mutation> = {
  "delete a character": (text, next) => {
    const index = at(text, next);
    return text.slice(0, index) + text.slice(index + 1);
  },
  "duplicate a character": (text, next) => {
    const index = at(text, next);
    return text.slice(0, index + 1) + text.slice(index);
  },
  truncate: (text, next) => text.slice(0, at(text, next)),
  "swap two neighbours": (text, next) => {
    const index = Math.min(at(text, next), text.length - 2);
    return (
      text.slice(0, index) + text.charAt(index + 1) + text.charAt(index) + text.slice(index + 2)
    );
  },
  "insert a syntax character": (text, next) => {
    const index = at(text, next);
    const char = inserts[Math.floor(next() * inserts.length)] ?? "";
    return text.slice(0, index) + char + text.slice(index);
  },
  "delete or duplicate a line": (text, next) => {
    const lines = text.split("\n");
    const index = Math.floor(next() * lines.length);
    if (next() < 0.5) lines.splice(index, 1);
    else lines.splice(index, 0, lines[index] ?? "");
    return lines.join("\n");
  },
  "insert deeply nested brackets": (text, next) => {
    const index = at(text, next);
    const depth = 1 + Math.floor(next() * 2000);
    const pairs: [string, string][] = [
      ["[", "]"],
      ["{", "}"],
      ["(", ")"],
    ];
    const [open, close] = pairs[Math.floor(next() * pairs.length)] ?? ["[", "]"];
    const closed = next() < 0.5 ? close.repeat(depth) : "";
    return text.slice(0, index) + open.repeat(depth) + closed + text.slice(index);
  },
  "several edits at once": (text, next) => {
    let out = text;
    const edits = 2 + Math.floor(next() * 6);
    const simple = Object.values(strategies).slice(0, 5);
    for (let edit = 0; edit < edits; edit++) {
      const mutate = simple[Math.floor(next() * simple.length)];
      if (mutate) out = mutate(out, next);
    }
    return out;
  },
};

type Outcome = "valid" | "rejected" | string;

/** The loader as each command calls it: validate, providers pull, list, run (of the first example). */
const modes = ["validate", "without secrets", "list", "run"] as const;
type Mode = (typeof modes)[number];

function load(source: string, mode: Mode): Promise<unknown[]> {
  const location = { path: "/fuzz/dstream.hcl", display: "dstream.hcl" };
  const options = { env: userExampleEnv, now: () => new Date(0) };
  switch (mode) {
    case "validate":
      return parseConfig(source, location, options).then((config) => config.tasks);
    case "without secrets":
      return parseConfig(source, location, { ...options, requireEnv: false }).then(
        (config) => config.tasks,
      );
    case "list":
      return parseTaskList(source, location, { ...options, env: {} }).then((list) => list.tasks);
    case "run":
      return parseTask(source, location, { ...options, env: {}, task: "my-pipeline" }).then(
        (loaded) => [loaded.task],
      );
  }
}

/** What the loader made of one source; a string other than valid/rejected describes a failure. */
async function outcomeOf(source: string, mode: Mode): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Outcome>((settle) => {
    timer = setTimeout(
      () => settle(`hung for over ${PER_CASE_TIMEOUT_MS} ms`),
      PER_CASE_TIMEOUT_MS,
    );
  });
  const loaded = load(source, mode).then(
    (tasks): Outcome => {
      if (tasks.length === 0) return "valid config without tasks";
      JSON.stringify(tasks);
      return "valid";
    },
    (error: unknown): Outcome => {
      if (!(error instanceof DstreamError)) return `threw ${String(error)}`;
      const notFound = mode === "run" && error.code === "TASK_NOT_FOUND";
      if (error.code !== "CONFIG_SYNTAX" && error.code !== "CONFIG_INVALID" && !notFound) {
        return `wrong code ${error.code}: ${error.message}`;
      }
      if (error.exitCode !== 2) return `exit code ${error.exitCode}`;
      if (error.problems.length === 0) return "no problems listed";
      for (const problem of error.problems) {
        if (problem.includes("\n")) return `multi-line problem: ${JSON.stringify(problem)}`;
        if (/\bat .+:\d+:\d+\)?$|Error:|undefined|\[object /.test(problem)) {
          return `problem looks like a crash: ${problem}`;
        }
        if (
          !problem.startsWith(
            notFound ? 'task "my-pipeline" not found in dstream.hcl' : "dstream.hcl",
          )
        ) {
          return `problem does not name the file: ${problem}`;
        }
      }
      return "rejected";
    },
  );
  try {
    return await Promise.race([loaded, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("mutated config files", () => {
  test("the unmutated sources are valid (so mutations start from a good file)", async () => {
    for (const source of sources) {
      for (const mode of ["validate", "list"] as const) {
        expect(await outcomeOf(source, mode)).toBe("valid");
      }
    }
  });

  const seen = { valid: 0, rejected: 0 };
  for (const [name, mutate] of Object.entries(strategies)) {
    test(`${MUTATIONS_PER_STRATEGY} × ${name}`, async () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= MUTATIONS_PER_STRATEGY; seed++) {
        const next = random(seed * 7919 + name.length);
        const base = sources[seed % sources.length] ?? "";
        const mutated = mutate(base, next);
        const outcome = await outcomeOf(mutated, modes[seed % modes.length] ?? "validate");
        if (outcome === "valid" || outcome === "rejected") seen[outcome]++;
        else failures.push(`seed ${seed}: ${outcome}\n--- source ---\n${mutated}`);
      }
      expect(failures).toEqual([]);
    });
  }

  test("mutations reach both outcomes (the fuzzing is not all one-sided)", () => {
    expect(seen.valid).toBeGreaterThan(20);
    expect(seen.rejected).toBeGreaterThan(100);
  });
});
