/** `chapkit init NAME`: a new, runnable project from a template. */
import { Command, Option } from "commander";
import { paint, withSpinner } from "../_output.ts";
import type { CliContext } from "../context.ts";
import { installCommand, resolveChapkitSource, runInstall, scaffoldProject } from "../init/scaffold.ts";
import type { ProjectRuntime } from "../init/template.ts";
import { TEMPLATES } from "../init/templates.ts";

interface InitOptions {
  template: string;
  runtime: ProjectRuntime;
  chapkit?: string;
  install: boolean;
  force?: boolean;
}

/** `chapkit init`: a new project (main.ts, its test, manifest, Dockerfile, compose.yml, README) from a template. */
export function initCommand(cli: CliContext): Command {
  const list = TEMPLATES.map((t) => `  ${t.name.padEnd(10)} ${t.description}`).join("\n");
  return new Command("init")
    .description("Create a new service project: main.ts, its test, manifest, Dockerfile, compose.yml, README.")
    .argument("<name>", "project (and directory) name")
    .option("-t, --template <template>", "a built-in template or an npm package spec (see below)", "basic")
    .addOption(new Option("-r, --runtime <runtime>", "the runtime the project targets").choices(["bun", "deno"]).default("bun"))
    .option("--chapkit <spec>", "where chapkit comes from: a version range, a .tgz, or a folder (default: this version)")
    .option("--no-install", "do not install dependencies")
    .option("--force", "write into a non-empty directory")
    .addHelpText(
      "after",
      `\nTemplates:\n${list}\n\nAny other --template value is an npm package with a template/ folder (docs/cli.md).\n\n` +
        "Example:\n  chapkit init weather --template ml --runtime deno\n",
    )
    .action(async (name: string, options: InitOptions) => {
      const { output } = cli;
      const chapkit = resolveChapkitSource(options.chapkit, cli.cwd);
      const { dir, files } = await withSpinner(output, `creating ${name} from template ${options.template}`, () =>
        Promise.resolve(scaffoldProject({
          name,
          template: options.template,
          runtime: options.runtime,
          chapkit,
          cwd: cli.cwd,
          ...(options.force ? { force: true } : {}),
        })));
      for (const file of files) output.err(`  ${paint(output, "dim", file)}\n`);
      const install = installCommand(options.runtime, chapkit);
      if (options.install && install) {
        await withSpinner(output, `installing dependencies (${install.join(" ")})`, () => runInstall(install, dir));
      }
      const start = options.runtime === "bun" ? "bun main.ts" : "deno task start";
      const test = options.runtime === "bun" ? "bun test" : "deno task test";
      output.out(`\nCreated ${dir}\n\n  cd ${name}\n  ${start}\n  ${test}\n`);
    });
}
