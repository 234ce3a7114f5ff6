// The bench runner stores each benchmark's section in docs/benchmarks.md between its markers.
import { describe, expect, test } from "bun:test";
import { storeSection } from "../../../scripts/bench/index.ts";

const doc = "# Benchmarks\n\nIntro.\n";

describe("storeSection", () => {
  test("appends a new benchmark's section, between its markers", () => {
    expect(storeSection(doc, "list", "## list\n\nfigures 1\n")).toBe(
      "# Benchmarks\n\nIntro.\n\n<!-- bench:list -->\n## list\n\nfigures 1\n<!-- /bench:list -->\n",
    );
  });

  test("replaces only that benchmark's section, keeping the others and their order", () => {
    const two = storeSection(storeSection(doc, "list", "## list\nold"), "relay", "## relay\nr");
    const updated = storeSection(two, "list", "## list\nnew");
    expect(updated).toBe(
      "# Benchmarks\n\nIntro.\n\n<!-- bench:list -->\n## list\nnew\n<!-- /bench:list -->\n\n" +
        "<!-- bench:relay -->\n## relay\nr\n<!-- /bench:relay -->\n",
    );
  });

  test("a name that prefixes another's does not touch it", () => {
    const both = storeSection(storeSection(doc, "list-all", "## a\n1"), "list", "## b\n2");
    expect(storeSection(both, "list", "## b\n3")).toContain("<!-- bench:list-all -->\n## a\n1\n");
  });
});
