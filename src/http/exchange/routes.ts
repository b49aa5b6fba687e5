import { type TObject, Type } from "@sinclair/typebox";
import type { AnyElysia } from "elysia";
import type { EntityRecord } from "../../core/entity.ts";
import { type FieldError, ValidationError } from "../../core/errors.ts";
import type { Manager } from "../../core/manager.ts";
import { addRoute } from "../_route.ts";
import { limitedBodyStream } from "../body-limit.ts";
import type { ListRoute } from "../list-query-route.ts";
import type { RouteDoc } from "../route-doc.ts";
import { exchangeFormat, exportResponse } from "./export.ts";
import { type ImportMode, importRows } from "./import.ts";

/** What {@link exchangeRoutes} needs of a CRUD collection. */
export interface ExchangeRoutesOptions<R extends EntityRecord, I extends TObject, O extends TObject> {
  /** The collection's prefix, e.g. `/api/v1/config`. */
  prefix: string;
  /** The collection's manager: rows are validated and created through it. */
  manager: Manager<R, I, O>;
  /** The collection's list queries (filter grammar, sort, fields). */
  listing: ListRoute;
  /** Serve `$export` (the collection is readable). */
  read: boolean;
  /** Serve `$import` (the collection accepts creates). */
  create: boolean;
  /** Route docs of reads and of writes (with the collection's permissions). */
  reading(doc: RouteDoc): Record<string, unknown>;
  /** Route docs of writes. */
  writing(doc: RouteDoc): Record<string, unknown>;
  /** OpenAPI tags. */
  tags: string[];
}

const ImportQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal("csv"), Type.Literal("ndjson"), Type.Literal("xlsx")], { description: "Default: from Content-Type, else csv" })),
  mode: Type.Optional(Type.Union([Type.Literal("all"), Type.Literal("skip-invalid")], { description: "all (default): any invalid row imports nothing; skip-invalid: import the valid rows" })),
  dry_run: Type.Optional(Type.Boolean({ description: "Validate and report only" })),
});

const ImportReportSchema = Type.Object({
  format: Type.String(),
  mode: Type.String(),
  dry_run: Type.Boolean(),
  total: Type.Integer(),
  valid: Type.Integer(),
  invalid: Type.Integer(),
  created: Type.Integer(),
  errors: Type.Array(Type.Object({ row: Type.Integer(), errors: Type.Array(Type.Unknown()) })),
}, {
  title: "ImportReport",
  examples: [{ format: "csv", mode: "skip-invalid", dry_run: false, total: 3, valid: 2, invalid: 1, created: 2, errors: [{ row: 2, errors: [{ loc: ["rows", 2, "name"], msg: "Field required", type: "missing" }] }] }],
});

// The body is read as a stream by the handler; this parser keeps Elysia's from reading it first.
const UNREAD = Object.freeze({ unread: true });

function importOptions(url: URL): { mode: ImportMode; dryRun: boolean } {
  const errors: FieldError[] = [];
  const mode = url.searchParams.get("mode") ?? "all";
  if (mode !== "all" && mode !== "skip-invalid") errors.push({ loc: ["query", "mode"], msg: "Input should be 'all' or 'skip-invalid'", type: "enum" });
  const raw = (url.searchParams.get("dry_run") ?? "false").toLowerCase();
  if (!["true", "false", "1", "0"].includes(raw)) errors.push({ loc: ["query", "dry_run"], msg: "Input should be a valid boolean", type: "bool_parsing" });
  if (errors.length > 0) throw new ValidationError(errors);
  return { mode: mode as ImportMode, dryRun: raw === "true" || raw === "1" };
}

/**
 * `GET {prefix}/$export` and `POST {prefix}/$import` of a CRUD collection:
 * export streams the items a list query selects (same filters, sort and
 * `fields`) as CSV, NDJSON or XLSX; import reads such a file as a stream and
 * creates a row per line, with a report (see {@link importRows}).
 */
export function exchangeRoutes<R extends EntityRecord, I extends TObject, O extends TObject>(
  app: AnyElysia,
  options: ExchangeRoutesOptions<R, I, O>,
): void {
  const { prefix, manager, listing, tags } = options;
  const name = prefix.split("/").filter(Boolean).pop() ?? "export";
  const defaultColumns = Object.keys(manager.output.properties);
  if (options.read) {
    addRoute(app, "GET", `${prefix}/$export`, ({ request }: { request: Request }) => {
      const format = exchangeFormat(request, "accept");
      const fields = new URL(request.url).searchParams.get("fields");
      const columns = fields ? fields.split(",").map((field) => field.trim()).filter(Boolean) : defaultColumns;
      return exportResponse(listing.stream(request, ["format"]), { format, columns, name });
    }, {
      detail: options.reading({
        summary: `Export ${name}`,
        description: "Every item the list query selects (filter, sort, fields, search), streamed as a file: `format=csv` (default), " +
          "`ndjson` or `xlsx` (needs the optional package exceljs). CSV and XLSX have a header row; object fields are JSON in their cell.",
        tags,
        query: Type.Object({
          format: Type.Optional(Type.Union([Type.Literal("csv"), Type.Literal("ndjson"), Type.Literal("xlsx")], { examples: ["csv"] })),
          ...listing.query.properties,
        }),
        response: Type.String({ examples: ["id,created_at,updated_at,name\n01K2E7W8X9Y0Z1A2B3C4D5E6F7,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,weekly\n"] }),
        responseType: "text/csv",
      }),
    });
  }
  if (options.create) {
    addRoute(app, "POST", `${prefix}/$import`, ({ request }: { request: Request }) => {
      const url = new URL(request.url);
      const format = exchangeFormat(request, "content-type");
      return importRows(manager, limitedBodyStream(request), { format, ...importOptions(url) });
    }, {
      parse: [() => UNREAD],
      detail: options.writing({
        summary: `Import ${name}`,
        description: "Creates one item per row of a CSV, NDJSON or XLSX file (the body, with its media type or `format=`), validated " +
          "like a create body. `mode=all` (default) imports nothing when any row is invalid (422 listing each); `mode=skip-invalid` " +
          "imports the valid rows; `dry_run=true` only reports. Unreadable files answer 400.",
        tags,
        query: ImportQuery,
        response: ImportReportSchema,
      }),
    });
  }
}
