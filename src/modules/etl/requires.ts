import type { EtlModuleOptions } from "./mod.ts";

/**
 * What the ETL module needs installed before it: the jobs module, and the
 * `withEntity` collections its code pipelines load into. Kept apart from
 * `mod.ts` so the builder knows it without loading the module's code.
 */
export function etlRequires(options: Pick<EtlModuleOptions, "pipelines" | "collections">): string[] {
  const extra = new Set(Object.keys(options.collections ?? {}));
  const names = new Set<string>();
  for (const spec of options.pipelines ?? []) {
    const name = spec.load?.collection;
    if (name && !extra.has(name)) names.add(name);
  }
  return ["jobs", ...[...names].map((name) => `entity:${name}`)];
}
