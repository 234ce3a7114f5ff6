// A large file parsed a group of top-level blocks at a time: the Go parser's heap then holds one
// group, not the whole file (20,000 tasks took 480 MB at once), and the result is the same JSON.
import type { Outline, TopLevelBlock } from "../hcl/index.ts";
import { setOwn } from "./values.ts";

/** Files up to this size are parsed whole: the split only pays for itself on large ones. */
export const CHUNKED_PARSE_MIN_BYTES = 256 * 1024;
/** About what each group holds (measured: 15-30 KB parse fastest, in a tenth of the memory). */
const GROUP_BYTES = 24 * 1024;

/** Offsets where the source is cut: block starts that begin their line, about GROUP_BYTES apart. */
function cutPoints(source: string, blocks: readonly TopLevelBlock[]): number[] {
  const cuts = [0];
  let last = 0;
  for (const block of blocks) {
    if (block.start - last < GROUP_BYTES) continue;
    const lineStart = source.lastIndexOf("\n", block.start - 1) + 1;
    // Only blanks before the block on its line: the cut falls between two lines of the file.
    if (lineStart === 0 || source.slice(lineStart, block.start).trim() !== "") continue;
    cuts.push(lineStart);
    last = lineStart;
  }
  return cuts;
}

/**
 * The JSON that parsing `source` whole would give, from parsing it in groups of top-level blocks;
 * undefined when the file is small, its outline is partial or unsure, or a group does not parse
 * (the caller then parses the file whole, for exact diagnostics).
 */
export async function parseInGroups(
  source: string,
  outline: Outline,
  parse: (text: string) => Promise<Record<string, unknown> | undefined>,
): Promise<Record<string, unknown> | undefined> {
  if (source.length < CHUNKED_PARSE_MIN_BYTES || !outline.complete) return undefined;
  // Blocks whose labels clash, or a name used as both attribute and block, are refused or folded
  // by the parser only when it sees both: keep such a file whole.
  if (outline.labelConflicts.some((conflict) => conflict.path.length === 1)) return undefined;
  if (outline.mixed.some((mixed) => mixed.path.length === 1)) return undefined;
  const blocks = outline.topLevelBlocks;
  const cuts = cutPoints(source, blocks);
  if (cuts.length < 2) return undefined;
  const merged: Record<string, unknown> = {};
  let next = 0;
  for (let index = 0; index < cuts.length; index++) {
    const start = cuts[index] ?? 0;
    const end = cuts[index + 1] ?? source.length;
    const group: TopLevelBlock[] = [];
    for (let block = blocks[next]; block && block.start < end; block = blocks[++next]) {
      group.push(block);
    }
    const parsed = await parse(source.slice(start, end));
    if (!parsed || !matchesBlocks(parsed, group)) return undefined;
    mergeInto(merged, parsed);
  }
  return merged;
}

/** A tree of label lists: a node where blocks end counts them; one with children has labels below. */
interface LabelNode {
  ending: number;
  children: Map<string, LabelNode>;
}

/**
 * True when a group's JSON holds exactly its blocks, as hcl2json writes them: per type, objects
 * keyed by label down to a list of the block bodies. Anything else (an attribute the outline did
 * not see) makes the split unsafe.
 */
function matchesBlocks(parsed: Record<string, unknown>, blocks: readonly TopLevelBlock[]): boolean {
  const types = new Map<string, LabelNode>();
  for (const { type, labels } of blocks) {
    let node = childOf(types, type);
    for (const label of labels) node = childOf(node.children, label);
    node.ending++;
  }
  return sameShape(parsed, { ending: 0, children: types });
}

function childOf(children: Map<string, LabelNode>, key: string): LabelNode {
  let child = children.get(key);
  if (!child) {
    child = { ending: 0, children: new Map() };
    children.set(key, child);
  }
  return child;
}

function sameShape(value: unknown, node: LabelNode): boolean {
  if (node.children.size === 0) {
    return (
      Array.isArray(value) &&
      value.length === node.ending &&
      value.every((body) => typeof body === "object" && body !== null && !Array.isArray(body))
    );
  }
  if (node.ending > 0 || typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  const keys = Object.keys(value);
  if (keys.length !== node.children.size) return false;
  return keys.every((key) => {
    const child = node.children.get(key);
    return child !== undefined && sameShape((value as Record<string, unknown>)[key], child);
  });
}

/** Adds a group's blocks to those before it: lists of bodies concatenated, in source order. */
function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const earlier = Object.hasOwn(target, key) ? target[key] : undefined;
    if (Array.isArray(earlier) && Array.isArray(value))
      for (const body of value) earlier.push(body);
    else if (isObject(earlier) && isObject(value)) mergeInto(earlier, value);
    else setOwn(target, key, value);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
