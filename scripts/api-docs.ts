/**
 * The API reference, generated from the JSDoc of every public entry:
 *
 *   bun scripts/api-docs.ts            writes docs/reference.md (one table per entry)
 *   bun scripts/api-docs.ts --html     also writes the full HTML reference to docs/reference/ (deno doc --html)
 *   bun scripts/api-docs.ts --check    exits 1 when docs/reference.md is not what the sources give
 *
 * The entries are those of deno.json's `exports`, so the reference lists
 * exactly what a user can import.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";

const root = resolve(import.meta.dirname!, "..");
const manifest = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as { exports: Record<string, string> };
const deno = existsSync(join(root, "node_modules", ".bin", "deno")) ? join(root, "node_modules", ".bin", "deno") : "deno";

interface DocNode {
  name: string;
  kind: string;
  declarations?: { jsDoc?: { doc?: string }; kind?: string }[];
  jsDoc?: { doc?: string };
}

function run(args: string[]): string {
  const result = spawnSync(deno, args, { cwd: root, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`deno ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

/** The first sentence of a doc comment, on one line, without link syntax. */
function summary(doc: string | undefined): string {
  if (!doc) return "";
  const text = doc.replace(/\{@link\s+([^}|]+?)(?:\s*\|[^}]*)?\}/g, "`$1`").replace(/```[\s\S]*?```/g, "").replace(/\s+/g, " ").trim();
  const end = text.search(/(?<=[.!?])\s/);
  return (end === -1 ? text : text.slice(0, end)).replaceAll("|", "\\|");
}

function entryName(key: string): string {
  return key === "." ? "chapkit" : `chapkit/${key.slice(2)}`;
}

const KIND_ORDER = ["class", "function", "variable", "interface", "typeAlias", "enum", "namespace"];
const KIND_LABEL: Record<string, string> = {
  class: "class",
  function: "function",
  variable: "const",
  interface: "interface",
  typeAlias: "type",
  enum: "enum",
  namespace: "namespace",
};

export function render(): string {
  const lines = [
    "# API reference",
    "",
    "Generated from the JSDoc of the sources by `bun scripts/api-docs.ts` (do not edit by hand);",
    "`bun scripts/api-docs.ts --html` writes the full reference, with every member, signature and",
    "example, to `docs/reference/` (`deno doc --html`). Each entry is importable from npm as",
    "`chapkit/<entry>` and from JSR as `@chapkit/core/<entry>`.",
    "",
  ];
  for (const [key, file] of Object.entries(manifest.exports)) {
    const json = JSON.parse(run(["doc", "--json", file])) as { nodes: Record<string, { module_doc?: { doc?: string }; symbols?: DocNode[] }> };
    const node = Object.values(json.nodes)[0] ?? {};
    const symbols = (node.symbols ?? []).slice().sort((a, b) => {
      const kind = (s: DocNode): number => KIND_ORDER.indexOf(s.declarations?.[0]?.kind ?? s.kind);
      return kind(a) - kind(b) || a.name.localeCompare(b.name);
    });
    lines.push(`## \`${entryName(key)}\``, "", summary(node.module_doc?.doc) || "(no module doc)", "", "| export | kind | summary |", "| --- | --- | --- |");
    for (const symbol of symbols) {
      const declaration = symbol.declarations?.[0] as (DocNode["declarations"] & object)[number] & { kind?: string } | undefined;
      const kind = (declaration as { kind?: string } | undefined)?.kind ?? symbol.kind;
      const doc = declaration?.jsDoc?.doc ?? symbol.jsDoc?.doc;
      lines.push(`| \`${symbol.name}\` | ${KIND_LABEL[kind] ?? kind} | ${summary(doc)} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const target = join(root, "docs", "reference.md");
  const text = render();
  if (process.argv.includes("--check")) {
    const current = existsSync(target) ? readFileSync(target, "utf8") : "";
    if (current !== text) {
      console.error("docs/reference.md is out of date: run `bun scripts/api-docs.ts`");
      process.exit(1);
    }
    console.log("docs/reference.md is up to date");
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
  if (process.argv.includes("--html")) {
    run(["doc", "--html", "--name=chapkit", `--output=${join(root, "docs", "reference")}`, ...Object.values(manifest.exports)]);
    console.log("wrote docs/reference/");
  }
}
