/** docs/errors.md documents every problem type the sources can raise, and no other. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const root = join(import.meta.dirname!, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
  });
}

function raisedTypes(): Set<string> {
  const types = new Set<string>();
  for (const file of sources(join(root, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/urn:chapkit:error:([a-z][a-z-]*)/g)) types.add(match[1]!);
    if (file.endsWith(join("core", "errors.ts"))) {
      for (const match of text.matchAll(/urn\("([a-z][a-z-]*)"\)/g)) types.add(match[1]!);
    }
  }
  return types;
}

describe("docs/errors.md", () => {
  const page = readFileSync(join(root, "docs", "errors.md"), "utf8");
  const documented = new Set([...page.matchAll(/^### `urn:chapkit:error:([a-z-]+)`$/gm)].map((match) => match[1]!));

  it("has a section with cause and fix for every problem type in the sources", () => {
    const missing = [...raisedTypes()].filter((type) => !documented.has(type));
    assert.deepEqual(missing, [], `add a "### \`urn:chapkit:error:<type>\`" section for: ${missing.join(", ")}`);
    for (const type of documented) {
      const section = page.split(`### \`urn:chapkit:error:${type}\``)[1]!.split("\n### ")[0]!;
      assert.match(section, /\*\*Cause:\*\*/, `${type} names its cause`);
      assert.match(section, /\*\*Fix:\*\*/, `${type} names its fix`);
    }
  });

  it("documents no type the sources no longer raise", () => {
    const raised = raisedTypes();
    assert.deepEqual([...documented].filter((type) => !raised.has(type)), []);
  });

  it("shows examples that are valid problem bodies", () => {
    for (const block of page.matchAll(/```json\n([\s\S]*?)```/g)) {
      const body = JSON.parse(block[1]!) as Record<string, unknown>;
      for (const key of ["type", "title", "status", "detail"]) assert.ok(key in body, `example has ${key}`);
      assert.match(String(body.type), /^urn:chapkit:error:/);
    }
  });
});
