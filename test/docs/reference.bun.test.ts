/**
 * docs/reference.md is the API reference generated from the JSDoc of every
 * public entry: it is current, and every export it lists has a summary.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { render } from "../../scripts/api-docs.ts";

const root = join(import.meta.dir, "..", "..");

describe("docs/reference.md", () => {
  const generated = render();

  test("is what `bun scripts/api-docs.ts` generates from the sources today", () => {
    expect(readFileSync(join(root, "docs", "reference.md"), "utf8")).toBe(generated);
  }, 120_000);

  test("has a section per public entry and a JSDoc summary for every export", () => {
    const manifest = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as { exports: Record<string, string> };
    for (const key of Object.keys(manifest.exports)) {
      expect(generated).toContain(`## \`${key === "." ? "chapkit" : `chapkit/${key.slice(2)}`}\``);
    }
    const undocumented = generated.split("\n").filter((line) => /^\| `[^`]+` \| [a-z]+ \| \|$/.test(line));
    expect(undocumented).toEqual([]);
  });
});
