/** `chapkit artifact list|download|upload --url URL`: artifacts of a running service from the shell. */
import { readFileSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Command } from "commander";
import { paint, withSpinner } from "../_output.ts";
import type { CliContext } from "../context.ts";
import { type ServiceOptions, serviceFetch, serviceOptions, serviceRequest } from "../_http.ts";

const PREFIX = "/api/v1/artifacts";

interface Artifact {
  id: string;
  level?: number;
  parent_id?: string | null;
  created_at?: string;
  data?: unknown;
}

function summary(data: unknown): string {
  if (data && typeof data === "object") {
    const record = data as Record<string, unknown>;
    if (typeof record.ml_type === "string") return record.ml_type;
    if (typeof record.content_type === "string") return `${record.content_type}, ${String(record.size ?? "?")} bytes`;
  }
  const text = JSON.stringify(data) ?? "null";
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const CONTENT_TYPES: Record<string, string> = {
  csv: "text/csv",
  json: "application/json",
  onnx: "application/octet-stream",
  parquet: "application/vnd.apache.parquet",
  png: "image/png",
  txt: "text/plain",
};

function listCommand(cli: CliContext): Command {
  return serviceOptions(new Command("list").description("List artifacts: id, level, parent, created, what the data is."))
    .option("--json", "print the artifacts as JSON")
    .action(async (options: ServiceOptions & { json?: boolean }) => {
      const body = await (await serviceFetch(options, PREFIX)).json() as Artifact[] | { items: Artifact[] };
      const rows = Array.isArray(body) ? body : body.items;
      if (options.json) return cli.output.out(`${JSON.stringify(rows, null, 2)}\n`);
      for (const row of rows) {
        const parent = row.parent_id ? ` ← ${row.parent_id}` : "";
        cli.output.out(
          `${row.id}  ${paint(cli.output, "dim", `level ${row.level ?? 0}${parent}  ${row.created_at ?? ""}`)}  ${summary(row.data)}\n`,
        );
      }
      cli.output.err(`${rows.length} artifact(s)\n`);
    });
}

function downloadCommand(cli: CliContext): Command {
  return serviceOptions(
    new Command("download").description("Save an artifact's binary payload ($download), or its JSON data when it has none."),
  )
    .argument("<id>", "artifact id")
    .option("-o, --out <file>", "where to write (default: stdout)")
    .action(async (id: string, options: ServiceOptions & { out?: string }) => {
      const bytes = await withSpinner(cli.output, `downloading ${id}`, async () => {
        const payload = await serviceRequest(options, `${PREFIX}/${id}/$download`);
        if (payload.ok) return new Uint8Array(await payload.arrayBuffer());
        await payload.body?.cancel();
        const artifact = await (await serviceFetch(options, `${PREFIX}/${id}`)).json() as Artifact;
        return new TextEncoder().encode(`${JSON.stringify(artifact.data, null, 2)}\n`);
      });
      if (options.out) writeFileSync(resolve(cli.cwd, options.out), bytes);
      else cli.output.out(new TextDecoder().decode(bytes));
    });
}

function uploadCommand(cli: CliContext): Command {
  return serviceOptions(new Command("upload").description("Upload a file as a new artifact's binary payload ($upload)."))
    .argument("<file>", "the file to upload")
    .option("--parent <id>", "place it under this artifact")
    .option("--config <id>", "upload a trained model (e.g. an .onnx file) linked to this config")
    .option("--content-type <type>", "content type (default: from the file extension)")
    .action(async (file: string, options: ServiceOptions & { parent?: string; config?: string; contentType?: string }) => {
      const path = resolve(cli.cwd, file);
      const extension = basename(path).split(".").pop()?.toLowerCase() ?? "";
      const contentType = options.contentType ?? CONTENT_TYPES[extension] ?? "application/octet-stream";
      const query = new URLSearchParams();
      if (options.parent) query.set("parent_id", options.parent);
      if (options.config) query.set("config_id", options.config);
      const created = await withSpinner(cli.output, `uploading ${basename(path)}`, async () => {
        const response = await serviceFetch(options, `${PREFIX}/$upload${query.size ? `?${query}` : ""}`, {
          method: "POST",
          headers: { "content-type": contentType },
          body: readFileSync(path),
        });
        return await response.json() as Artifact;
      });
      cli.output.out(`${created.id}\n`);
    });
}

/** The `artifact` command and its subcommands. */
export function artifactCommand(cli: CliContext): Command {
  return new Command("artifact")
    .description("List, download and upload artifacts of a running service.")
    .addCommand(listCommand(cli))
    .addCommand(downloadCommand(cli))
    .addCommand(uploadCommand(cli));
}
