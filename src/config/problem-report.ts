// Collects config problems with their source position and path, and throws them all at once.
import { DstreamError } from "../errors.ts";
import { type Outline, outlineKey, type SourcePosition } from "../hcl/index.ts";
import type { ValuePath } from "./values.ts";

/** Collects problems with their source positions and path, and throws them all at once. */
export class ProblemReport {
  private readonly problems: { line: number; column: number; text: string }[] = [];

  constructor(
    private readonly display: string,
    private readonly outline: Outline,
  ) {}

  /** True when `path` was written as a block, with or without labels. */
  isBlock(path: ValuePath): boolean {
    return this.outline.blockPrefixes.has(outlineKey(path));
  }

  /** True when the source shows `path` written as an attribute (`name = ...`), not a block. */
  isAttribute(path: ValuePath): boolean {
    return this.outline.positions.has(outlineKey(path)) && !this.isBlock(path);
  }

  /** True when `path` was written as a block with labels only (`input "x" { }`). */
  hasLabels(path: ValuePath): boolean {
    return !this.outline.blocks.has(outlineKey(path)) && this.isBlock(path);
  }

  positionOf(path: ValuePath, occurrence = 0) {
    const names = path.filter((part): part is string => typeof part === "string");
    for (let length = names.length; length > 0; length--) {
      const positions = this.outline.positions.get(outlineKey(names.slice(0, length)));
      if (positions) return positions[Math.min(occurrence, positions.length - 1)];
    }
    return undefined;
  }

  /** `file:line:col` of `path` (or of the nearest written block around it); `file` when unknown. */
  locate(path: ValuePath, occurrence?: number): string {
    return this.where(this.positionOf(path, occurrence));
  }

  private where(position: SourcePosition | undefined): string {
    return position ? `${this.display}:${position.line}:${position.column}` : this.display;
  }

  add(
    path: ValuePath,
    message: string,
    options: { occurrence?: number; firstLine?: number; at?: SourcePosition } = {},
  ) {
    const position = options.at ?? this.positionOf(path, options.occurrence);
    const suffix = options.firstLine ? ` (first defined on line ${options.firstLine})` : "";
    this.problems.push({
      line: position?.line ?? 0,
      column: position?.column ?? 0,
      text: `${this.where(position)}: ${describePath(path)}: ${message}${suffix}`,
    });
  }

  /** Every problem so far, in source order, as one error. */
  error(code: "CONFIG_INVALID" | "CONFIG_SYNTAX" = "CONFIG_INVALID"): DstreamError {
    const sorted = [...this.problems].sort((a, b) => a.line - b.line || a.column - b.column);
    const problems = sorted.map((problem) => problem.text);
    return new DstreamError(code, problems[0] ?? "invalid config", { problems });
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw this.error();
  }
}

/** `task "orders" › input › config › tables[0]` */
function describePath(path: ValuePath): string {
  const parts: string[] = [];
  for (let index = 0; index < path.length; index++) {
    const part = path[index];
    if (typeof part === "number") {
      parts[parts.length - 1] = `${parts.at(-1) ?? ""}[${part}]`;
    } else if (index === 0 && part === "task" && typeof path[1] === "string") {
      parts.push(`task ${quoteName(path[1])}`);
      index++;
    } else {
      parts.push(part !== undefined && hasControl.test(part) ? quoteName(part) : (part ?? ""));
    }
  }
  return parts.join(" › ");
}

const hasControl = /[\p{Cc}\u2028\u2029]/u;

/** A name in double quotes, every control character and line break escaped (JSON misses C1 ones). */
function quoteName(name: string): string {
  return JSON.stringify(name).replace(
    new RegExp(hasControl.source, "gu"),
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}
