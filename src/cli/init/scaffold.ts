/** Writes a new project: resolves where chapkit comes from, renders the template, installs. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CliExit } from "../context.ts";
import { CLI_VERSION } from "../version.ts";
import { denoUsesNodeModules, projectFiles } from "./_files.ts";
import { packageTemplateFiles } from "./package-template.ts";
import { builtinTemplate } from "./templates.ts";
import { type ChapkitSource, type ProjectRuntime, type TemplateContext, titleOf } from "./template.ts";

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Where the project gets chapkit from, from `--chapkit SPEC`: an existing `.tgz`
 * or unpacked package folder is a `file:` dependency, a folder with `deno.json`
 * and `mod.ts` is a source checkout, anything else a version range of the npm
 * package (default: this CLI's own version).
 */
export function resolveChapkitSource(spec: string | undefined, cwd: string): ChapkitSource {
  if (spec === undefined) return { kind: "registry", version: `^${CLI_VERSION}` };
  const path = resolve(cwd, spec);
  if (!existsSync(path)) return { kind: "registry", version: spec };
  if (statSync(path).isDirectory() && existsSync(join(path, "deno.json")) && existsSync(join(path, "mod.ts"))) {
    const deno = JSON.parse(readFileSync(join(path, "deno.json"), "utf8")) as { imports?: Record<string, string> };
    // The checkout's own entries ("./mod.ts") are relative to it: make them absolute.
    const imports = Object.fromEntries(
      Object.entries(deno.imports ?? {}).map(([key, target]) => [key, target.startsWith(".") ? join(path, target) : target]),
    );
    return { kind: "source", path, imports };
  }
  return { kind: "file", path };
}

/** Options of {@link scaffoldProject}. */
export interface ScaffoldOptions {
  name: string;
  /** A built-in template name or an npm package spec. */
  template: string;
  runtime: ProjectRuntime;
  chapkit: ChapkitSource;
  /** The parent directory of the new project. */
  cwd: string;
  /** Write into a non-empty directory. */
  force?: boolean;
}

/**
 * Renders the project's files and writes them under `cwd/name`; returns the
 * project directory and the relative paths written.
 *
 * @throws {CliExit} on an invalid name or a non-empty target directory (exit 2).
 */
export function scaffoldProject(options: ScaffoldOptions): { dir: string; files: string[] } {
  if (!NAME.test(options.name)) {
    throw new CliExit(2, `project name "${options.name}" must be lowercase letters, digits, ".", "_" or "-"`);
  }
  const dir = resolve(options.cwd, options.name);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !options.force) {
    throw new CliExit(2, `${dir} exists and is not empty (use --force to write into it)`);
  }
  const context: TemplateContext = {
    name: options.name,
    title: titleOf(options.name),
    runtime: options.runtime,
    chapkit: options.chapkit,
  };
  const builtin = builtinTemplate(options.template);
  const files = builtin ? projectFiles(builtin, context) : packageTemplateFiles(options.template, context, options.cwd);
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  return { dir, files: Object.keys(files).sort() };
}

/** The command that installs a new project's dependencies, or undefined when it needs none. */
export function installCommand(runtime: ProjectRuntime, chapkit: ChapkitSource): string[] | undefined {
  if (runtime === "bun") return ["bun", "install"];
  // node_modules for a Deno project: Bun's installer when present (several times faster), else npm's.
  if (denoUsesNodeModules(chapkit)) {
    return spawnSync("bun", ["--version"]).status === 0 ? ["bun", "install"] : ["npm", "install", "--no-audit", "--no-fund"];
  }
  return ["deno", "install", "--entrypoint", "main.ts", "main.test.ts"];
}

/** Runs a command in `cwd`, resolving to its combined output; rejects with the output on a non-zero exit. */
export function runInstall(command: string[], cwd: string): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (chunk) => void (output += String(chunk)));
    child.stderr!.on("data", (chunk) => void (output += String(chunk)));
    child.on("error", (error) => reject(new CliExit(1, `cannot run ${command[0]}: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolveRun(output);
      else reject(new CliExit(1, `\`${command.join(" ")}\` exited with ${code}:\n${output}`));
    });
  });
}
