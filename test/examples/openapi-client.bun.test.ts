/**
 * A client generated from the OpenAPI document by maintained generators:
 * `openapi-typescript` turns `/openapi.json` of the running typed-client
 * example into TypeScript types, a program calls the example through
 * `openapi-fetch` with them, `tsc` type-checks it (wrong bodies and paths
 * are `@ts-expect-error`), and the program runs against the example.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { startExample } from "../_support/example-process.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
const DIR = join(ROOT, ".tmp", `openapi-client-${process.pid}`);

const PROGRAM = `import createClient from "openapi-fetch";
import type { paths } from "./schema.ts";

const client = createClient<paths>({ baseUrl: process.env.SERVICE_URL! });

const created = await client.POST("/api/v1/notes", { body: { title: "generated client", stars: 4, tags: ["a"] } });
if (created.response.status !== 201 || !created.data) throw new Error("create failed: " + created.response.status);
const stars: number = created.data.stars;
const id: string = created.data.id;

const fetched = await client.GET("/api/v1/notes/{entity_id}", { params: { path: { entity_id: id } } });
if (fetched.data?.title !== "generated client") throw new Error("read failed");

const config = await client.POST("/api/v1/config", { body: { name: "from-generated-client", data: { min_samples: 2, region: "north" } } });
if (config.response.status !== 201) throw new Error("config failed: " + config.response.status + JSON.stringify(config.error));

const missing = await client.GET("/api/v1/notes/{entity_id}", { params: { path: { entity_id: "01K79YAHJ7BR4E87VVTG8FNBMA" } } });
if (missing.response.status !== 404) throw new Error("expected 404");

// @ts-expect-error stars is an integer, not a string
await client.POST("/api/v1/notes", { body: { title: "x", stars: "many" } });
// @ts-expect-error no such path
await client.GET("/api/v1/nowhere");
// @ts-expect-error the path parameter is required
await client.GET("/api/v1/notes/{entity_id}", {});

console.log("ok", stars);
`;

describe("a client generated from /openapi.json with openapi-typescript and openapi-fetch", () => {
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    ({ child, url } = await startExample("typed_client.ts"));
    mkdirSync(DIR, { recursive: true });
    const document = await (await fetch(`${url}/openapi.json`)).json();
    writeFileSync(join(DIR, "schema.ts"), astToString(await openapiTS(document)));
    writeFileSync(join(DIR, "client.ts"), PROGRAM);
  });
  afterAll(() => {
    child?.kill("SIGTERM");
    rmSync(DIR, { recursive: true, force: true });
  });

  it("type-checks typed calls, and refuses wrong bodies and paths", () => {
    const tsc = spawnSync(process.execPath, [
      join(ROOT, "node_modules", "typescript", "bin", "tsc"),
      "--ignoreConfig", "--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler",
      "--allowImportingTsExtensions", "--types", "node", "--skipLibCheck", "client.ts",
    ], { cwd: DIR, encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 60_000);

  it("runs the typed calls against the running example", () => {
    const run = spawnSync(process.execPath, [join(DIR, "client.ts")], { cwd: ROOT, encoding: "utf8", env: { ...process.env, SERVICE_URL: url } });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("ok 4");
  });
});
