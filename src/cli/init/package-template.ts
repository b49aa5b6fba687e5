/**
 * Templates published as npm packages (`chapkit init NAME --template SPEC`, SPEC
 * anything `npm pack` accepts: a package name, `name@version`, a tarball, a folder).
 *
 * Format: the package's files under `template/` are copied into the new project,
 * then those under `template-bun/` or `template-deno/` for the chosen runtime
 * (overriding same-named files). A file named `_gitignore` becomes `.gitignore`
 * (npm drops `.gitignore` from packages). In every text file these placeholders are
 * replaced: `{{name}}`, `{{title}}`, `{{runtime}}`, `{{chapkitDependency}}` (the
 * package.json dependency value, e.g. `^0.1.0` or `file:/…/chapkit.tgz`) and
 * `{{chapkitImport}}` (the Deno import-map target of `chapkit`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { CliExit } from "../context.ts";
import type { ChapkitSource, TemplateContext } from "./template.ts";

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** The value of `{{chapkitImport}}`: what Deno maps `chapkit` to. */
export function chapkitImport(source: ChapkitSource): string {
  if (source.kind === "registry") return `npm:chapkit@${source.version}`;
  if (source.kind === "source") return `${source.path}/mod.ts`;
  return "chapkit";
}

function render(text: string, context: TemplateContext): string {
  const values: Record<string, string> = {
    name: context.name,
    title: context.title,
    runtime: context.runtime,
    chapkitDependency: context.chapkit.kind === "registry" ? context.chapkit.version : `file:${context.chapkit.path}`,
    chapkitImport: chapkitImport(context.chapkit),
  };
  return text.replace(/\{\{(\w+)\}\}/g, (match, key: string) => values[key] ?? match);
}

/**
 * Fetches the template package `spec` with `npm pack` (so registries, tarballs
 * and folders all work) and renders its files for `context`.
 *
 * @throws {CliExit} when npm cannot fetch it or it has no `template/` folder.
 */
export function packageTemplateFiles(spec: string, context: TemplateContext, cwd: string): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-template-"));
  try {
    const packed = spawnSync("npm", ["pack", spec, "--pack-destination", dir, "--json", "--silent"], {
      cwd,
      encoding: "utf8",
    });
    if (packed.status !== 0) throw new CliExit(1, `cannot fetch template package "${spec}": ${packed.stderr.trim()}`);
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const untar = spawnSync("tar", ["-xzf", join(dir, filename.replace(/^.*\//, "")), "-C", dir], { encoding: "utf8" });
    if (untar.status !== 0) throw new CliExit(1, `cannot unpack template package "${spec}": ${untar.stderr.trim()}`);
    const root = join(dir, "package");
    if (!existsSync(join(root, "template"))) {
      throw new CliExit(1, `"${spec}" is not a chapkit template package: it has no template/ folder`);
    }
    const files: Record<string, string> = {};
    for (const folder of ["template", `template-${context.runtime}`]) {
      const base = join(root, folder);
      if (!existsSync(base)) continue;
      for (const file of walk(base)) {
        const target = file.replace(/(^|\/)_gitignore$/, "$1.gitignore");
        files[target] = render(readFileSync(join(base, file), "utf8"), context);
      }
    }
    return files;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
