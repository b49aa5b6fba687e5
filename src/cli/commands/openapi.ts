/** `chapkit openapi --url URL`: the service's OpenAPI document, for client generators and reviews. */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command } from "commander";
import type { CliContext } from "../context.ts";
import { type ServiceOptions, serviceFetch, serviceOptions } from "../_http.ts";

/** `chapkit openapi`: prints a running service's OpenAPI document. */
export function openapiCommand(cli: CliContext): Command {
  return serviceOptions(new Command("openapi").description("Print a running service's OpenAPI document (GET /openapi.json)."))
    .option("-o, --out <file>", "write to a file instead of stdout")
    .addHelpText("after", "\nExample:\n  chapkit openapi --url http://127.0.0.1:8000 > openapi.json\n")
    .action(async (options: ServiceOptions & { out?: string }) => {
      const document = await (await serviceFetch(options, "/openapi.json")).json();
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (options.out) writeFileSync(resolve(cli.cwd, options.out), text);
      else cli.output.out(text);
    });
}
