// Checking a pipeline definition against what this service has, and filling its defaults.
import { resolve, sep } from "node:path";
import { Cron } from "croner";
import { type FieldError, ValidationError } from "../../core/errors.ts";
import type { EtlLoad, EtlPipelineSpec } from "./schema.ts";
import { isPipelineName } from "./schema.ts";
import { checkSource, formatOf } from "./sources.ts";
import type { EtlManagerOptions } from "./manager.ts";

/** A definition with every optional field filled with its default. */
export function normalised(spec: EtlPipelineSpec): EtlPipelineSpec {
  const load: Required<EtlLoad> = {
    collection: spec.load.collection,
    mode: spec.load.mode ?? "insert",
    key: spec.load.key ?? "id",
    on_invalid: spec.load.on_invalid ?? "fail-all",
  };
  return {
    name: spec.name,
    schedule: spec.schedule ?? null,
    timezone: spec.timezone ?? null,
    source: spec.source,
    format: spec.format ?? null,
    json_path: spec.json_path ?? null,
    transform: spec.transform ?? null,
    load,
    enabled: spec.enabled ?? true,
    description: spec.description ?? null,
  };
}

function insideRoots(path: string, roots: readonly string[]): boolean {
  const target = resolve(path);
  return roots.some((root) => {
    const base = resolve(root);
    return target === base || target.startsWith(base.endsWith(sep) ? base : base + sep);
  });
}

function listed(names: Iterable<string>): string {
  const all = [...names].sort();
  return all.length === 0 ? "none are registered" : `registered: ${all.join(", ")}`;
}

/**
 * The definition with its defaults, once it names a valid cron and time zone,
 * a registered transform, an installed collection (with the upsert key among
 * its fields), a readable source (a file source over HTTP only under
 * `fileRoots`) and a format that is given or implied by the path.
 * @throws {ValidationError} listing each problem.
 */
export function checkPipeline(
  raw: EtlPipelineSpec,
  loc: (string | number)[],
  origin: "code" | "api",
  options: Pick<EtlManagerOptions, "transforms" | "collections" | "fileRoots">,
): EtlPipelineSpec {
  const spec = normalised(raw);
  const errors: FieldError[] = [];
  const at = (...path: (string | number)[]) => [...loc, ...path];
  if (!isPipelineName(spec.name)) errors.push({ loc: at("name"), msg: "Invalid pipeline name: letters, digits, _ . - (at most 100)", type: "value_error" });
  if (spec.schedule) {
    try {
      const next = new Cron(spec.schedule, { paused: true, ...(spec.timezone ? { timezone: spec.timezone } : {}) }).nextRun();
      if (!next) errors.push({ loc: at("schedule"), msg: "The expression has no future tick", type: "value_error" });
    } catch (error) {
      const message = (error as Error).message;
      errors.push({ loc: at(spec.timezone && /time ?zone/i.test(message) ? "timezone" : "schedule"), msg: message, type: "value_error" });
    }
  }
  if (spec.transform && !(spec.transform in options.transforms)) {
    errors.push({ loc: at("transform"), msg: `No transform named "${spec.transform}"; ${listed(Object.keys(options.transforms))}`, type: "value_error" });
  }
  const collections = options.collections();
  const manager = collections.get(spec.load.collection);
  if (!manager) {
    const names = [...collections.keys()];
    errors.push({
      loc: at("load", "collection"),
      msg: `No collection named "${spec.load.collection}"; ${names.length === 0 ? "none is installed (withEntity)" : `installed: ${names.sort().join(", ")}`}`,
      type: "value_error",
    });
  } else if (spec.load.mode === "upsert" && spec.load.key !== "id" && !(spec.load.key! in manager.input.properties)) {
    errors.push({ loc: at("load", "key"), msg: `Collection ${spec.load.collection} has no field "${spec.load.key}"`, type: "value_error" });
  }
  errors.push(...checkSource(spec.source).map((error) => ({ ...error, loc: [...loc, ...error.loc.slice(1)] })));
  // Code is trusted; a definition sent over HTTP reads files only where the service allows.
  if (origin === "api" && spec.source.kind === "file" && !insideRoots(spec.source.path, options.fileRoots ?? [])) {
    const roots = options.fileRoots ?? [];
    const msg = roots.length === 0
      ? "File sources are not allowed over HTTP: declare the pipeline in code, or allow directories with withEtl({ fileRoots })"
      : `The path is outside the allowed directories: ${roots.join(", ")}`;
    errors.push({ loc: at("source", "path"), msg, type: "value_error" });
  }
  if (!spec.format && spec.source.kind !== "s3") {
    const name = spec.source.kind === "http" ? new URL(spec.source.url).pathname : spec.source.path;
    if (errors.every((error) => error.loc[loc.length] !== "source") && !formatOf(name)) {
      errors.push({ loc: at("format"), msg: `Cannot tell the format of ${name} from its name: give csv, ndjson, json or xlsx`, type: "missing" });
    }
  }
  if (spec.json_path && spec.format && spec.format !== "json") {
    errors.push({ loc: at("json_path"), msg: "json_path applies to the json format only", type: "value_error" });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return spec;
}
