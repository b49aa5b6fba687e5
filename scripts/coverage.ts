/**
 * Combines the line coverage of several runs (Bun's and Deno's lcov files)
 * into one figure for `src/`: a line counts as covered when any run
 * executed it, since neither runtime sees all of the code alone (workers,
 * subprocesses, runtime-specific drivers). Source files that no run loaded
 * count with every code line uncovered.
 *
 *   bun scripts/coverage.ts [--min PERCENT] [--json FILE] LCOV...
 *
 * Prints one line, `coverage: 91.2% of lines in src/ (…)`, and exits 1 when
 * `--min` is given and not reached.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import process from "node:process";

const root = resolve(import.meta.dirname!, "..");
const args = process.argv.slice(2);
let min: number | undefined;
let json: string | undefined;
const inputs: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--min") min = Number(args[++i]);
  else if (args[i] === "--json") json = args[++i];
  else inputs.push(args[i]!);
}

/** file (relative to the root) → line → hits, summed over every input. */
const lines = new Map<string, Map<number, number>>();
const perRun: { input: string; covered: number; total: number }[] = [];

for (const input of inputs) {
  if (!existsSync(input)) continue;
  let file: string | undefined;
  let covered = 0;
  let total = 0;
  for (const raw of readFileSync(input, "utf8").split("\n")) {
    const line = raw.trim();
    if (line.startsWith("SF:")) {
      const path = line.slice(3).replace(/^file:\/\//, "");
      const rel = relative(root, resolve(root, path));
      file = rel.startsWith("src/") && !rel.includes("node_modules") ? rel : undefined;
      if (file && !lines.has(file)) lines.set(file, new Map());
    } else if (line.startsWith("DA:") && file) {
      const [number, hits] = line.slice(3).split(",").map(Number) as [number, number];
      const map = lines.get(file)!;
      map.set(number, (map.get(number) ?? 0) + hits);
      total++;
      if (hits > 0) covered++;
    }
  }
  perRun.push({ input, covered, total });
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [relative(root, path)] : [];
  });
}

/** Lines of a never-loaded file that hold code (not blank, not only a comment or a brace). */
function codeLines(file: string): number {
  let inComment = false;
  let count = 0;
  for (const raw of readFileSync(join(root, file), "utf8").split("\n")) {
    const line = raw.trim();
    if (inComment) {
      if (line.includes("*/")) inComment = false;
      continue;
    }
    if (line.startsWith("/*")) {
      inComment = !line.includes("*/");
      continue;
    }
    if (line === "" || line.startsWith("//") || /^[{}()[\];,]*$/.test(line) || /^(import|export) (type )?\{?[\w\s,{}*]*\}? ?(from .*)?;?$/.test(line)) continue;
    count++;
  }
  return count;
}

let covered = 0;
let total = 0;
const unloaded: string[] = [];
const files: { file: string; covered: number; total: number }[] = [];
for (const file of sources(join(root, "src"))) {
  const map = lines.get(file);
  if (!map) {
    const n = codeLines(file);
    if (n > 0) unloaded.push(file);
    total += n;
    files.push({ file, covered: 0, total: n });
    continue;
  }
  const hit = [...map.values()].filter((hits) => hits > 0).length;
  covered += hit;
  total += map.size;
  files.push({ file, covered: hit, total: map.size });
}

const percent = total === 0 ? 0 : (100 * covered) / total;
const runs = perRun.map((run) => `${relative(process.cwd(), run.input)} ${(100 * run.covered / Math.max(1, run.total)).toFixed(1)}%`).join(", ");
console.log(
  `coverage: ${percent.toFixed(1)}% of lines in src/ (${covered}/${total}; ${files.length} files, ${unloaded.length} never loaded)${runs ? `; per run: ${runs}` : ""}`,
);
if (json) writeFileSync(json, JSON.stringify({ percent, covered, total, unloaded, files }, null, 2));
if (min !== undefined && percent < min) {
  console.log(`coverage below the required ${min}%`);
  process.exit(1);
}
