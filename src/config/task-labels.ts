// Task blocks without exactly one name (`task { }`, `task "a" "b" { }`), found by the outline so
// that each is reported at its own line and the rest of the file is still checked.
import type { Outline, TopLevelBlock } from "../hcl/index.ts";
import type { ProblemReport } from "./problem-report.ts";

export function mislabelledTasks(outline: Outline): TopLevelBlock[] {
  return outline.topLevelBlocks.filter(
    (block) => block.type === "task" && block.labels.length !== 1,
  );
}

export function reportMislabelledTasks(outline: Outline, report: ProblemReport): void {
  for (const { labels, position } of mislabelledTasks(outline)) {
    const [path, needs] =
      labels.length === 0
        ? [["task"], "needs one name"]
        : [["task", labels[0] ?? ""], "takes exactly one name"];
    report.add(path, `a task block ${needs}: task "my-pipeline" { ... }`, { at: position });
  }
}

/**
 * `source` with these blocks blanked out: every character but line breaks becomes a space, so
 * what remains keeps its lines and columns.
 */
export function withoutBlocks(source: string, blocks: readonly TopLevelBlock[]): string {
  let text = "";
  let from = 0;
  for (const { start, end } of blocks) {
    text += source.slice(from, start) + source.slice(start, end).replace(/[^\n]/g, " ");
    from = end;
  }
  return text + source.slice(from);
}
