/**
 * Builds the npm package into `dist/` from the same sources JSR publishes.
 *
 * - `mod.ts` is bundled to `dist/mod.js`, each entry package.json points into `dist/` (its `exports`
 *   subpaths such as `src/cli/mod.ts`, the `chapkit` executable `src/cli/bin.ts` from `bin`) to its path
 *   under `dist/`, and every `src/**\/*-worker.ts` is bundled
 *   as its own entry to `dist/src/**\/*-worker.js`. Dependencies, `bun:` and
 *   `node:` modules stay external, so the bundle holds only chapkit's code.
 * - `new URL("./x.ts", import.meta.url)` in a source file is rewritten to the
 *   path of x's output relative to the bundle that inlines it, so worker and
 *   asset URLs keep working after bundling. A non-TypeScript target (an HTML
 *   page, a WASM file) is copied into `dist/` at its path from the repo root.
 * - Declarations come from `tsc` with `tsconfig.build.json`'s options for the same entries; their relative `.ts`
 *   specifiers are rewritten to `.js` so any TypeScript consumer resolves them.
 *
 * Run with `bun scripts/build.ts` (or `npm run build`; `npm pack` runs it as `prepack`).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { BunPlugin } from "bun";

const ROOT = resolve(import.meta.dir, "..");
const OUT = join(ROOT, "dist");
const URL_PATTERN = /new\s+URL\(\s*(["'])(\.{1,2}\/[^"'`]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Files under `dir` (recursively) whose name satisfies `keep`. */
function walk(dir: string, keep: (name: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(path, keep));
    else if (keep(entry.name)) found.push(path);
  }
  return found.sort();
}

/** The output path of a source entry: same place under dist/, `.ts` becomes `.js`. */
function outputOf(source: string): string {
  return join(OUT, relative(ROOT, source)).replace(/\.ts$/, ".js");
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

const workers = walk(join(ROOT, "src"), (name) => name.endsWith("-worker.ts"));
/**
 * The sources of what package.json points into dist/ (`main`, every `exports` target, every `bin`):
 * `./dist/src/cli/bin.js` is built from `src/cli/bin.ts`. A target whose source is missing fails the
 * build, since the published package would lack it.
 */
function packageEntries(): string[] {
  const manifest = join(ROOT, "package.json");
  if (!existsSync(manifest)) return [];
  const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { main?: unknown; exports?: unknown; bin?: unknown };
  const targets: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === "string") targets.push(value);
    else if (value !== null && typeof value === "object") for (const inner of Object.values(value)) collect(inner);
  };
  collect(pkg.main);
  collect(pkg.exports);
  collect(pkg.bin);
  const sources = new Set<string>();
  for (const target of targets) {
    const match = /^(?:\.\/)?dist\/(.+)\.js$/.exec(target);
    if (!match) continue;
    const source = join(ROOT, `${match[1]}.ts`);
    if (!existsSync(source)) throw new Error(`package.json names ${target}, but ${relative(ROOT, source)} does not exist`);
    sources.add(source);
  }
  return [...sources];
}

/** `mod.ts`, the subpath entries and the `chapkit` executable named by package.json, and the workers. */
const entries = [...new Set([join(ROOT, "mod.ts"), ...packageEntries(), ...workers])];
const entrySet = new Set(entries);

/** Marks a rewritten `new URL(…)` target: the path under dist/, resolved per output file once the build has placed it. */
const ASSET_MARK = "chapkit-dist-path:";

/**
 * Rewrites relative `new URL(…, import.meta.url)` to a marked dist/ path: the module holding it may land in
 * an entry or a shared chunk, so the relative path is written after the build ({@link resolveAssetMarks}).
 */
function urlRewriter(copied: Set<string>): BunPlugin {
  return {
    name: "chapkit-relative-urls",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const contents = readFileSync(args.path, "utf8");
        if (args.path.includes(`${sep}node_modules${sep}`) || !contents.includes("import.meta.url")) {
          return { contents, loader: "ts" };
        }
        const rewritten = contents.replace(URL_PATTERN, (_match, quote: string, spec: string) => {
          const target = resolve(dirname(args.path), spec);
          let output: string;
          if (target.endsWith(".ts")) {
            if (!entrySet.has(target)) {
              throw new Error(
                `${relative(ROOT, args.path)}: new URL("${spec}", import.meta.url) points at a module that is ` +
                  `not a build entry; name it *-worker.ts so the build emits it`,
              );
            }
            output = outputOf(target);
          } else {
            statSync(target); // fails the build when the asset is missing
            output = join(OUT, relative(ROOT, target));
            copied.add(target);
          }
          return `new URL(${quote}${ASSET_MARK}${toPosix(relative(OUT, output))}${quote}, import.meta.url)`;
        });
        return { contents: rewritten, loader: "ts" };
      });
    },
  };
}

/** Replaces the marks {@link urlRewriter} left with paths relative to each output file. */
function resolveAssetMarks(files: readonly string[]): void {
  const mark = new RegExp(`(["'])${ASSET_MARK}([^"']+)\\1`, "g");
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (!text.includes(ASSET_MARK)) continue;
    writeFileSync(file, text.replace(mark, (_match, quote: string, path: string) => {
      let rel = toPosix(relative(dirname(file), join(OUT, path)));
      if (!rel.startsWith(".")) rel = `./${rel}`;
      return `${quote}${rel}${quote}`;
    }));
  }
}

/**
 * Bundles every entry in one build with code splitting: modules two entries share (the builders, DataFrame,
 * the error classes…) live once in `dist/chunks/`, so `chapkit` and `chapkit/ml` see the same classes.
 */
async function bundle(copied: Set<string>): Promise<void> {
  const result = await Bun.build({
    entrypoints: entries,
    outdir: OUT,
    root: ROOT,
    naming: { entry: "[dir]/[name].[ext]", chunk: "chunks/[name]-[hash].[ext]", asset: "assets/[name]-[hash].[ext]" },
    splitting: true,
    target: "node",
    format: "esm",
    packages: "external",
    external: ["bun:*", "node:*"],
    sourcemap: "linked",
    plugins: [urlRewriter(copied)],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error("bundling failed");
  }
  resolveAssetMarks(result.outputs.map((output) => output.path).filter((path) => path.endsWith(".js")));
}

/** Rewrites relative `.ts` specifiers in emitted declarations to `.js`. */
function fixDeclarationSpecifiers(): void {
  const pattern = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g;
  for (const file of walk(OUT, (name) => name.endsWith(".d.ts"))) {
    const text = readFileSync(file, "utf8");
    const fixed = text.replace(pattern, "$1$2.js$3");
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

/**
 * Emits declarations for exactly the build entries: a config extending `tsconfig.build.json` names
 * them as its `files`, so a new subpath entry in package.json needs no second list.
 */
function emitDeclarations(): void {
  const tscBin = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const config = join(OUT, "tsconfig.entries.json");
  writeFileSync(
    config,
    JSON.stringify({
      extends: toPosix(relative(OUT, join(ROOT, "tsconfig.build.json"))),
      files: entries.map((entry) => toPosix(relative(OUT, entry))),
      include: [],
    }),
  );
  const tsc = Bun.spawnSync([process.execPath, tscBin, "-p", config], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  rmSync(config);
  if (tsc.exitCode !== 0) throw new Error(`tsc exited with ${tsc.exitCode}`);
  fixDeclarationSpecifiers();
}

const started = performance.now();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const copied = new Set<string>();
await bundle(copied);
for (const asset of copied) {
  const target = join(OUT, relative(ROOT, asset));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(asset, target);
}
emitDeclarations();
const ms = Math.round(performance.now() - started);
console.log(
  `built dist/ from ${entries.length} entr${entries.length === 1 ? "y" : "ies"}` +
    `${copied.size > 0 ? ` and ${copied.size} asset(s)` : ""} in ${ms} ms`,
);
