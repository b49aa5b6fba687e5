/**
 * The code in README.md and docs/ cannot rot: every TypeScript block is
 * type-checked against the sources with tsc, every JSON and YAML block
 * parses, and every shell block names examples, scripts and `chapkit`
 * commands that exist.
 *
 * A TypeScript block is checked as a module of its own. Names the block uses
 * without declaring them are imported from the package's entries when an
 * entry exports them (so a fragment that calls `new ServiceBuilder(...)`
 * is checked against the real class); names that no entry exports stand
 * for the reader's own values (`schema`, `runner`) and are left unchecked.
 * A block that starts with `.` continues a builder chain and is checked on a
 * `ServiceBuilder`. A block fenced as ` ```ts ignore ` is skipped (use it for
 * pseudo-code only).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { load as parseYaml } from "js-yaml";

const root = join(import.meta.dir, "..", "..");

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
}

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === "api" ? [] : walk(path);
      return name.endsWith(".md") ? [path] : [];
    });
  return [join(root, "README.md"), join(root, "CONTRIBUTING.md"), ...walk(join(root, "docs"))].filter(existsSync);
}

function blocks(): Block[] {
  const found: Block[] = [];
  for (const file of markdownFiles()) {
    const lines = readFileSync(file, "utf8").split("\n");
    let open: { lang: string; line: number; code: string[] } | undefined;
    lines.forEach((text, index) => {
      const fence = /^(\s*)```(.*)$/.exec(text);
      if (!fence) {
        open?.code.push(text);
        return;
      }
      if (open) {
        found.push({ file: relative(root, file), line: open.line, lang: open.lang, code: open.code.join("\n") });
        open = undefined;
      } else {
        open = { lang: fence[2]!.trim(), line: index + 1, code: [] };
      }
    });
  }
  return found;
}

/** Entry specifier → source file, from deno.json's exports (the JSR manifest). */
function entries(): Map<string, string> {
  const manifest = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as { exports: Record<string, string> };
  const map = new Map<string, string>();
  for (const [key, path] of Object.entries(manifest.exports)) {
    const file = join(root, path);
    map.set(key === "." ? "chapkit" : `chapkit/${key.slice(2)}`, file);
    if (key === ".") map.set("jsr:@chapkit/core", file);
    else map.set(`jsr:@chapkit/core/${key.slice(2)}`, file);
  }
  map.set("@chapkit/core", join(root, "mod.ts"));
  return map;
}

/** The names a module file exports, read from its export statements, each with whether it is a type only. */
function exportedNames(file: string): { name: string; typeOnly: boolean }[] {
  const text = readFileSync(file, "utf8");
  const names: { name: string; typeOnly: boolean }[] = [];
  for (const match of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const part of match[2]!.split(",")) {
      const typeOnly = Boolean(match[1]) || /^\s*type\s/.test(part);
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop()!.trim();
      if (name) names.push({ name, typeOnly });
    }
  }
  for (const match of text.matchAll(/export\s+(?:declare\s+)?(?:async\s+)?(function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g)) {
    names.push({ name: match[2]!, typeOnly: match[1] === "interface" || match[1] === "type" });
  }
  return names;
}

const IMPORT = /^\s*import\s+(?:type\s+)?([\s\S]*?)\s+from\s+["']([^"']+)["'];?/gm;
const CHECKED_LANGS = new Set(["ts", "typescript", "tsx"]);
// Cannot find name …; … Did you mean …? — the reader's own values in a fragment.
// A fragment's own values are undeclared, so callbacks on them have implicitly typed parameters (7006, 7031).
const UNDECLARED = new Set([2304, 2552, 2448, 2454, 18004, 7006, 7031]);
/** Names the docs use from the project's dependencies without importing them. */
const THIRD_PARTY: Record<string, string> = {
  Elysia: "elysia",
  Type: "@sinclair/typebox",
  Static: "@sinclair/typebox",
  treaty: "@elysiajs/eden",
  assert: "node:assert/strict",
};

describe("TypeScript blocks in README.md and docs/", () => {
  const all = blocks().filter((block) => CHECKED_LANGS.has(block.lang.split(/\s+/)[0]!) && !/\bignore\b/.test(block.lang));

  test("type-check against the sources", () => {
    expect(all.length).toBeGreaterThan(10);
    const map = entries();
    const owners = new Map<string, string>();
    const typeOnly = new Set<string>();
    for (const [specifier, file] of map) {
      if (specifier.startsWith("jsr:") || specifier === "@chapkit/core") continue;
      for (const { name, typeOnly: onlyType } of exportedNames(file)) {
        if (owners.has(name)) continue;
        owners.set(name, specifier);
        if (onlyType) typeOnly.add(name);
      }
    }
    const dir = join(root, ".tmp", "docs-check");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const origin = new Map<string, Block>();
    all.forEach((block, index) => {
      // A block that continues a builder chain (`.withJobs({...})`) is checked on a ServiceBuilder.
      const chained = block.code.trimStart().startsWith(".");
      const source = chained ? `new ServiceBuilder({ info: { display_name: "docs" } })\n${block.code}` : block.code;
      let code = source.replace(IMPORT, (whole, _clause: string, specifier: string) => {
        // `./name.ts` in a docs block is the example of that name.
        const target = map.get(specifier) ?? (specifier.startsWith("./") ? join(root, "examples", specifier) : undefined);
        return target ? whole.replace(specifier, relative(dir, target).replaceAll("\\", "/")) : whole;
      });
      const declared = new Set<string>();
      for (const match of source.matchAll(IMPORT)) {
        for (const name of match[1]!.replace(/[{}*]/g, " ").split(/[\s,]+/)) if (name && name !== "type" && name !== "as") declared.add(name);
      }
      for (const match of source.matchAll(/\b(?:const|let|var|function|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g)) declared.add(match[1]!);
      const used = new Set(source.replace(/\/\/.*$/gm, "").replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""').match(/(?<![.\w$])[A-Za-z_$][\w$]*/g) ?? []);
      const wanted = new Map<string, string[]>();
      for (const name of used) {
        const owner = owners.get(name) ?? THIRD_PARTY[name];
        if (!owner || declared.has(name)) continue;
        // A type-only export is imported only where the block uses the name as a type
        // (a reader's value of the same name, `AuditEntry` the entity, stays their own).
        if (typeOnly.has(name) && !new RegExp(`(?:[:<|&]\\s*|\\b(?:as|satisfies|type|extends|implements)\\s+)${name}\\b|\\b${name}\\s*(?:<|\\[\\])`).test(source)) continue;
        wanted.set(owner, [...(wanted.get(owner) ?? []), name]);
      }
      const prelude = [...wanted].map(([specifier, names]) => {
        const target = map.get(specifier);
        const from = target ? relative(dir, target).replaceAll("\\", "/") : specifier;
        const list = names.map((name) => (typeOnly.has(name) ? `type ${name}` : name)).join(", ");
        return specifier === "node:assert/strict" ? `import assert from "${from}";` : `import { ${list} } from "${from}";`;
      });
      const name = `block-${String(index).padStart(3, "0")}.ts`;
      origin.set(name, block);
      code = [...prelude, code, "export {};"].join("\n");
      writeFileSync(join(dir, name), code);
      origin.set(`${name}#prelude`, { ...block, line: prelude.length + (chained ? 1 : 0) });
    });
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      extends: "../../tsconfig.json",
      compilerOptions: { noUnusedLocals: false, noUnusedParameters: false },
      include: ["*.ts"],
    }));
    const tsc = Bun.spawnSync([join(root, "node_modules", ".bin", "tsc"), "--noEmit", "--pretty", "false", "-p", join(dir, "tsconfig.json")], { cwd: root });
    const output = tsc.stdout.toString() + tsc.stderr.toString();
    const problems: string[] = [];
    for (const line of output.split("\n")) {
      const diagnostic = /^(?:.*[\\/])?(block-\d+\.ts)\((\d+),(\d+)\): error TS(\d+): (.*)$/.exec(line.trim());
      if (!diagnostic) {
        if (line.includes("error TS")) problems.push(line);
        continue;
      }
      const [, name, row, , code, message] = diagnostic;
      if (UNDECLARED.has(Number(code))) continue;
      const block = origin.get(name!)!;
      const offset = origin.get(`${name}#prelude`)!.line;
      problems.push(`${block.file}:${block.line + Number(row) - offset}: TS${code} ${message}`);
    }
    rmSync(dir, { recursive: true, force: true });
    expect(problems).toEqual([]);
  }, 300_000);
});

describe("other blocks in README.md and docs/", () => {
  const all = blocks();

  test("JSON blocks parse (JSON Lines line by line)", () => {
    for (const block of all.filter((b) => b.lang === "json" || b.lang === "jsonl" || b.lang === "ndjson")) {
      const where = `${block.file}:${block.line}`;
      if (block.lang === "json") expect(() => JSON.parse(block.code), where).not.toThrow();
      else for (const line of block.code.split("\n").filter(Boolean)) expect(() => JSON.parse(line), where).not.toThrow();
    }
  });

  test("YAML blocks parse", () => {
    for (const block of all.filter((b) => b.lang === "yaml" || b.lang === "yml")) {
      expect(() => parseYaml(block.code), `${block.file}:${block.line}`).not.toThrow();
    }
  });

  test("shell blocks name examples, scripts and npm scripts that exist", () => {
    const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const missing: string[] = [];
    for (const block of all.filter((b) => b.lang === "sh" || b.lang === "bash" || b.lang === "shell")) {
      const where = `${block.file}:${block.line}`;
      for (const match of block.code.matchAll(/(?:^|\s)((?:examples|scripts|bench)\/[\w./-]+\.(?:ts|sh|py))/g)) {
        if (!existsSync(join(root, match[1]!))) missing.push(`${where}: ${match[1]}`);
      }
      for (const match of block.code.matchAll(/\bnpm run ([\w:-]+)/g)) {
        if (!scripts[match[1]!]) missing.push(`${where}: npm run ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("`chapkit` commands in shell blocks are commands the CLI has", async () => {
    const { createProgram } = await import("../../src/cli/program.ts");
    const program = createProgram({ output: { out: () => {}, err: () => {}, interactive: false, color: false }, cwd: root, env: {} });
    const known = new Set(program.commands.map((command: { name(): string }) => command.name()));
    const unknown: string[] = [];
    for (const block of all.filter((b) => b.lang === "sh" || b.lang === "bash" || b.lang === "shell")) {
      for (const match of block.code.matchAll(/(?:^|[\s;&|(])(?:npx |bunx )?chapkit ([a-z][\w-]*)/gm)) {
        if (!known.has(match[1]!)) unknown.push(`${block.file}:${block.line}: chapkit ${match[1]}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
