/** `chapkit config`: the effective configuration (defaults, config file, environment) with secrets masked. */
import { resolve } from "node:path";
import { Command } from "commander";
import { ConfigurationError } from "../../core/errors.ts";
import { maskedSettings } from "../../core/settings/render.ts";
import { ServiceSettings } from "../../service/settings.ts";
import { type CliContext, CliExit } from "../context.ts";

interface ConfigOptions {
  file?: string;
  json?: boolean;
}

/** `chapkit config`: the effective settings (secrets masked), each value's source, and what reloads live. */
export function configCommand(cli: CliContext): Command {
  return new Command("config")
    .description("Show the effective configuration (secrets masked), where each value comes from, and what reloads live.")
    .option("-f, --file <path>", "JSON config file (default CHAPKIT_CONFIG_FILE)")
    .option("--json", "print the settings as JSON on stdout")
    .addHelpText("after", "\nExample:\n  PORT=9000 chapkit config --file chapkit.json\n")
    .action(async (options: ConfigOptions) => {
      const file = options.file ?? cli.env.CHAPKIT_CONFIG_FILE;
      let settings: ServiceSettings;
      try {
        settings = await ServiceSettings.load({}, { env: cli.env, ...(file ? { file: resolve(cli.cwd, file) } : {}) });
      } catch (error) {
        if (error instanceof ConfigurationError) throw new CliExit(1, error.message);
        throw error;
      }
      cli.output.out(options.json ? `${JSON.stringify(maskedSettings(settings.current), null, 2)}\n` : settings.render());
    });
}
