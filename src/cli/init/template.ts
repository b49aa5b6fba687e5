/** What a project template is, and the facts a template renders its files from. */

/** The runtime a new project targets. */
export type ProjectRuntime = "bun" | "deno";

/**
 * Where the new project gets chapkit from:
 * - `registry`: the published npm package at `version` (`npm:chapkit@version` on Deno);
 * - `file`: a packed tarball or an unpacked npm package directory (a `file:` dependency; on
 *   Deno through `node_modules`, `nodeModulesDir: "manual"`);
 * - `source`: a chapkit source checkout (Deno maps `chapkit` to its `mod.ts` and copies its
 *   import map; Bun depends on the directory).
 */
export type ChapkitSource =
  | { kind: "registry"; version: string }
  | { kind: "file"; path: string }
  | { kind: "source"; path: string; imports: Record<string, string> };

/** What every template renders from. */
export interface TemplateContext {
  /** The project (and directory) name, e.g. `weather-service`. */
  readonly name: string;
  /** A human title derived from the name, e.g. `Weather Service`. */
  readonly title: string;
  readonly runtime: ProjectRuntime;
  readonly chapkit: ChapkitSource;
}

/**
 * A built-in project template. `main` and `test` are the service and its test;
 * everything else (manifest, Dockerfile, compose.yml, .gitignore, README) is
 * rendered around them from the fields below.
 */
export interface ProjectTemplate {
  /** The value of `--template`. */
  readonly name: string;
  /** One line for `chapkit init --help` and the README. */
  readonly description: string;
  /** `main.ts`: exports `createService(databaseUrl?)` and listens when run directly. */
  main(context: TemplateContext): string;
  /** `main.test.ts`: node:test tests both runtimes run. */
  test(context: TemplateContext): string;
  /** More files by relative path (e.g. scripts). */
  files?(context: TemplateContext): Record<string, string>;
  /** Optional peer packages of chapkit the template's features load (name → version range), added to the manifest. */
  readonly peerPackages?: Readonly<Record<string, string>>;
  /** Debian packages the container needs (e.g. `python3`). */
  readonly aptPackages?: readonly string[];
  /** Environment the service needs to start, with development values (compose.yml, README). */
  readonly env?: Readonly<Record<string, string>>;
  /** A paragraph for the README on what the service does and how to call it. */
  readonly usage: string;
}

/** `weather-service` → `Weather Service`. */
export function titleOf(name: string): string {
  return name.split(/[-_.\s]+/).filter(Boolean).map((word) => word[0]!.toUpperCase() + word.slice(1)).join(" ");
}
