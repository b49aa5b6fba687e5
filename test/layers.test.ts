/**
 * The layer rule of DESIGN.md: a folder of `src/` imports only from the
 * folders listed before it, `src/core` imports neither Elysia nor a database
 * driver, and the HTTP-free parts of the ML module (`engine/`, `onnx/`) import
 * no store, no route and no other module. Imports are read from the sources,
 * type-only and dynamic ones included: a type import still ties two layers.
 * The process environment is read in one place, `src/runtime/env.ts`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url).href);
const SRC = join(ROOT, "src");

/** DESIGN.md's order; `entries/` and `testing/` are public entries and may import every layer. */
const LAYERS = ["core", "runtime", "observability", "db", "storage", "integrations", "http", "modules", "service", "cli"];
const ENTRY_FOLDERS = new Set(["entries", "testing"]);
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
const DRIVERS = new Set(["elysia", "postgres", "bun:sqlite", "node:sqlite"]);

/** Every `.ts` file under `dir`, relative to src/ with `/` separators. */
function sources(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sources(path));
    else if (entry.name.endsWith(".ts")) found.push(relative(SRC, path).split("\\").join("/"));
  }
  return found;
}

/** The specifiers one source file imports (comments stripped, so doc examples do not count). */
function imports(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...text.matchAll(SPECIFIER)].map((match) => match[1]!);
}

/** A relative specifier of `file` as a path under src/ (`../core/x.ts` from `db/y.ts` is `core/x.ts`). */
function target(file: string, specifier: string): string {
  return relative(SRC, resolve(SRC, dirname(file), specifier)).split("\\").join("/");
}

const FILES = sources(SRC);

describe("source layers", () => {
  it("a folder imports only from the folders listed before it", () => {
    const breaks: string[] = [];
    for (const file of FILES) {
      const from = file.split("/")[0]!;
      if (ENTRY_FOLDERS.has(from) || !LAYERS.includes(from)) continue;
      for (const specifier of imports(file)) {
        if (!specifier.startsWith(".")) continue;
        const to = target(file, specifier).split("/")[0]!;
        if (LAYERS.indexOf(to) > LAYERS.indexOf(from) || ENTRY_FOLDERS.has(to)) breaks.push(`${file} imports ${specifier}`);
      }
    }
    assert.deepEqual(breaks, []);
  });

  it("every folder of src/ has a place in the layer order", () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    assert.deepEqual(folders.filter((name) => !LAYERS.includes(name) && !ENTRY_FOLDERS.has(name)), []);
  });

  it("src/core imports neither Elysia nor a database driver", () => {
    const breaks = FILES.filter((file) => file.startsWith("core/"))
      .flatMap((file) => imports(file).filter((specifier) => DRIVERS.has(specifier)).map((specifier) => `${file} imports ${specifier}`));
    assert.deepEqual(breaks, []);
  });

  it("the ML engine and ONNX runner import no other module, no store and no Elysia", () => {
    const breaks: string[] = [];
    for (const file of FILES.filter((path) => /^modules\/ml\/(engine|onnx)\//.test(path))) {
      for (const specifier of imports(file)) {
        if (!specifier.startsWith(".")) {
          if (DRIVERS.has(specifier)) breaks.push(`${file} imports ${specifier}`);
          continue;
        }
        const to = target(file, specifier);
        const inside = /^modules\/ml\/(engine|onnx)\//.test(to);
        const below = ["core", "runtime", "observability"].includes(to.split("/")[0]!);
        if (!inside && !below) breaks.push(`${file} imports ${specifier}`);
      }
    }
    assert.deepEqual(breaks, []);
  });

  it("only src/runtime/env.ts reads the process environment", () => {
    // Templates are the source of a user's new project, not chapkit's own reads.
    const readers = FILES.filter((file) => file !== "runtime/env.ts" && !file.startsWith("cli/init/templates/"))
      .filter((file) => {
        const code = readFileSync(join(SRC, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
        return /\bprocess\??\.env\b|\bDeno\.env\b|\bBun\.env\b/.test(code);
      });
    assert.deepEqual(readers, []);
  });
});
