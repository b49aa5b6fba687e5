/** `chapkit client --lang ts|python|go`: a typed client of a service from its OpenAPI document. */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { goClient } from "../client/go.ts";
import type { OpenApiDocument } from "../client/operations.ts";
import { pythonClient } from "../client/python.ts";
import { typescriptClient } from "../client/typescript.ts";
import { withSpinner } from "../_output.ts";
import { parseHeaders } from "../_http.ts";
import { type CliContext, CliExit } from "../context.ts";

interface ClientOptions {
  lang: "ts" | "python" | "go";
  url?: string;
  file?: string;
  out: string;
  header: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function loadDocument(options: ClientOptions, cwd: string): Promise<OpenApiDocument> {
  if (options.file) return JSON.parse(readFileSync(resolve(cwd, options.file), "utf8")) as OpenApiDocument;
  if (!options.url) throw new CliExit(2, "give the service with --url URL or its document with --file openapi.json");
  const url = `${options.url.replace(/\/+$/, "")}/openapi.json`;
  const response = await fetch(url, { headers: parseHeaders(options.header) }).catch((error: Error) => {
    throw new CliExit(1, `GET ${url} did not answer: ${error.message}`);
  });
  if (!response.ok) throw new CliExit(1, `GET ${url} answered ${response.status}`);
  return await response.json() as OpenApiDocument;
}

/** `chapkit client`: a typed client (TypeScript, Python or Go) generated from a service's OpenAPI document. */
export function clientCommand(cli: CliContext): Command {
  return new Command("client")
    .description("Generate a typed client (TypeScript, Python or Go) from a service's OpenAPI document.")
    .addOption(new Option("-l, --lang <lang>", "client language").choices(["ts", "python", "go"]).makeOptionMandatory())
    .option("-u, --url <url>", "read the document from a running service (GET /openapi.json)")
    .option("-f, --file <file>", "read the document from a file (e.g. from chapkit openapi)")
    .option("-H, --header <header>", "extra request header \"Name: value\" for --url (repeatable)", collect, [])
    .option("-o, --out <dir>", "output directory", "client")
    .addHelpText(
      "after",
      "\nWrites client.ts (fetch, no dependencies), client.py (Python 3 standard library) or\n" +
        "client.go + go.mod (compiled with `go build` when a Go toolchain is on PATH).\n\n" +
        "Example:\n  chapkit client --lang python --url http://127.0.0.1:8000 --out clients/python\n",
    )
    .action(async (options: ClientOptions) => {
      const document = await withSpinner(cli.output, "reading the OpenAPI document", () => loadDocument(options, cli.cwd));
      const out = resolve(cli.cwd, options.out);
      mkdirSync(out, { recursive: true });
      const files: Record<string, string> = options.lang === "ts"
        ? { "client.ts": typescriptClient(document) }
        : options.lang === "python"
        ? { "client.py": pythonClient(document) }
        : { "client.go": goClient(document), "go.mod": "module chapkitclient/client\n\ngo 1.21\n" };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
      if (options.lang === "go" && spawnSync("go", ["version"]).status === 0) {
        const built = await withSpinner(cli.output, "compiling the Go client", () =>
          Promise.resolve(spawnSync("go", ["build", "./..."], { cwd: out, encoding: "utf8" })));
        if (built.status !== 0) throw new CliExit(1, `go build failed:\n${built.stderr}`);
      }
      cli.output.out(`${Object.keys(files).map((name) => join(out, name)).join("\n")}\n`);
    });
}
