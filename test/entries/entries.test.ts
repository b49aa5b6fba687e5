/**
 * The public entries: `chapkit` (builders and essentials) and its subpaths
 * (`chapkit/db`, `chapkit/auth`, `chapkit/ml`, `chapkit/onnx`,
 * `chapkit/observability`, `chapkit/integrations`, `chapkit/modules`,
 * `chapkit/testing`, `chapkit/cli`). Importing the
 * root must load no ML or auth code, so the module graph each entry pulls in
 * with static imports is read from the sources (type-only imports and dynamic
 * `import()` load nothing at import time).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { exports: Record<string, string> };
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, unknown> };

const STATIC_IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^;"']*?\sfrom\s*)?["']([^"']+)["']/gm;

/** Files (relative to the repository) and packages loaded by importing `entry`. */
function moduleGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    const path = relative(ROOT, file);
    if (files.has(path)) return;
    files.add(path);
    const source = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    for (const [, typeOnly, specifier] of source.matchAll(STATIC_IMPORT)) {
      if (typeOnly || !specifier) continue;
      if (!specifier.startsWith(".")) {
        packages.add(specifier);
        continue;
      }
      const target = resolve(dirname(file), specifier);
      assert.ok(existsSync(target), `${path} imports ${specifier}, which does not exist`);
      visit(target);
    }
  };
  visit(join(ROOT, entry));
  return { files, packages };
}

const ML_OR_AUTH = /^src\/(ml|modules\/ml|modules\/auth)\//;
const OPTIONAL_PEERS = ["onnxruntime-web", "@scalar/api-reference", "msgpackr", "fflate", "js-yaml", "ioredis", "@elysiajs/jwt", "amqplib", "@nats-io/transport-node", "@nats-io/jetstream", "mqtt"];

describe("public entries", () => {
  it("importing the root loads no ML or auth code and no optional peer", () => {
    const { files, packages } = moduleGraph("mod.ts");
    assert.deepEqual([...files].filter((file) => ML_OR_AUTH.test(file)), []);
    const peers = [...packages].filter((name) => OPTIONAL_PEERS.some((peer) => name === peer || name.startsWith(`${peer}/`)));
    assert.deepEqual(peers, []);
  });

  it("importing the root loads no node:crypto (it costs start-up time; what needs it loads it on first use)", () => {
    assert.ok(!moduleGraph("mod.ts").packages.has("node:crypto"));
  });

  it("the service builder loads no module's code until a service installs it, only the keys and checks it needs", () => {
    const { files } = moduleGraph("src/service/service-builder.ts");
    const modules = [...files].filter((file) => file.startsWith("src/modules/"));
    assert.deepEqual(modules.filter((file) => !/\/(keys?|check-options|requires)\.ts$/.test(file)), []);
  });

  it("importing the root loads barely more than the service builder: no module, manager or router code", () => {
    // A service imports `chapkit` for ServiceBuilder; whatever else the root loads is start-up time it pays.
    const builder = moduleGraph("src/service/service-builder.ts").files;
    const extra = [...moduleGraph("mod.ts").files].filter((file) => !builder.has(file));
    assert.ok(extra.length <= 20, `the root loads ${extra.length} files the service builder does not: ${extra.join(", ")}`);
  });

  it("chapkit/db loads neither ML, auth nor HTTP routes", () => {
    const { files } = moduleGraph(deno.exports["./db"]!);
    assert.deepEqual([...files].filter((file) => ML_OR_AUTH.test(file) || file.startsWith("src/service/")), []);
  });

  it("chapkit/integrations loads no broker client at import time", () => {
    const { packages } = moduleGraph(deno.exports["./integrations"]!);
    assert.deepEqual([...packages].filter((name) => OPTIONAL_PEERS.includes(name)), []);
  });

  it("chapkit/ml loads no ONNX runtime, which chapkit/onnx holds", () => {
    assert.ok(!moduleGraph(deno.exports["./ml"]!).packages.has("onnxruntime-web"));
    assert.ok([...moduleGraph(deno.exports["./onnx"]!).files].some((file) => file.startsWith("src/modules/ml/onnx/")));
  });

  it("every entry is exported by both manifests and opens with a module doc holding an example", () => {
    const subpaths = ["./db", "./auth", "./ml", "./onnx", "./observability", "./integrations", "./modules", "./testing", "./cli"];
    for (const key of [".", ...subpaths]) {
      const file = deno.exports[key];
      assert.ok(file, `deno.json exports ${key}`);
      assert.ok(pkg.exports[key], `package.json exports ${key}`);
      const doc = /^\/\*\*([\s\S]*?)\*\//.exec(readFileSync(join(ROOT, file), "utf8"))?.[1] ?? "";
      assert.match(doc, /@module/, `${file} has a module doc`);
      if (key !== "./cli") assert.match(doc, /@example/, `${file}'s module doc has an example`);
    }
  });

  it("the root exports builders and essentials, not store, auth or ML internals", async () => {
    const root = await import("../../mod.ts");
    for (const internal of ["encodeCursor", "decodeCursor", "PERMISSIONS", "hashPassword", "DataFrame", "OnnxWorkerPool", "SqlJobStore"]) {
      assert.ok(!(internal in root), `${internal} is not exported by the root`);
    }
    for (const essential of ["ServiceBuilder", "MLServiceBuilder", "defineEntity", "newUlid", "NotFoundError", "listenService"]) {
      assert.ok(essential in root, `${essential} is exported by the root`);
    }
  });
});
