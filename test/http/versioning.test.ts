/** API versions from one definition over real HTTP, on SQLite and PostgreSQL. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { VersioningOptions } from "../../src/http/versioning.ts";
import type { ServiceBuilder } from "../../src/service/service-builder.ts";
import { type ApiService, serveNotes, STORES } from "./_api-service.ts";

type Json = Record<string, unknown>;

/** v2 calls a note's `title` its `name`. */
function renameKeys(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((item) => renameKeys(item, from, to));
  if (value === null || typeof value !== "object") return value;
  const object = value as Json;
  if (Array.isArray(object.items)) return { ...object, items: renameKeys(object.items, from, to) };
  if (!(from in object)) return object;
  const { [from]: moved, ...rest } = object;
  return { ...rest, [to]: moved };
}

const VERSIONS: VersioningOptions = {
  versions: {
    v1: { deprecation: { deprecated: "2026-01-01T00:00:00Z", sunset: "2027-01-01T00:00:00Z", link: "https://example.org/migrate-to-v2" } },
    v2: {
      transforms: [{
        route: "/api/v1/notes*",
        request: (body) => renameKeys(body, "name", "title"),
        response: (body) => renameKeys(body, "title", "name"),
      }],
    },
  },
  deprecatedRoutes: [{ route: "GET /api/v1/notes/$schema", deprecated: "2026-06-01T00:00:00Z", link: "https://example.org/schema" }],
};

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

for (const store of STORES) {
  describe(`API versions over HTTP (${store.name})`, () => {
    let service: ApiService;
    before(async () => {
      service = await serveNotes(await store.open(), (builder) => builder.withVersions(VERSIONS) as ServiceBuilder);
    });
    after(() => service.stop());

    it("serves v2 from the v1 routes through its transforms, both ways", async () => {
      const created = await post(`${service.url}/api/v2/notes`, { name: "renamed", stars: 2 });
      assert.equal(created.status, 201);
      const body = (await created.json()) as Json;
      assert.equal(body.name, "renamed");
      assert.equal("title" in body, false);
      assert.equal(created.headers.get("location"), `${service.url}/api/v2/notes/${body.id}`);
      const asV1 = (await (await fetch(`${service.url}/api/v1/notes/${body.id}`)).json()) as Json;
      assert.equal(asV1.title, "renamed");
      const list = (await (await fetch(`${service.url}/api/v2/notes?limit=10`)).json()) as { items: Json[] };
      assert.ok(list.items.every((item) => "name" in item && !("title" in item)));
    });

    it("rewrites the Link header of a v2 list to v2 URLs", async () => {
      await post(`${service.url}/api/v2/notes`, { name: "second", stars: 1 });
      const answer = await fetch(`${service.url}/api/v2/notes?limit=1`);
      const link = answer.headers.get("link") ?? "";
      assert.match(link, new RegExp(`<${service.url}/api/v2/notes\\?limit=1&cursor=[^>]+>; rel="next"`));
      assert.doesNotMatch(link, /\/api\/v1\//);
    });

    it("announces the deprecated version with Deprecation, Sunset and a Link to the guide", async () => {
      const answer = await fetch(`${service.url}/api/v1/notes`);
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get("deprecation"), `@${Date.parse("2026-01-01T00:00:00Z") / 1000}`);
      assert.equal(answer.headers.get("sunset"), "Fri, 01 Jan 2027 00:00:00 GMT");
      assert.match(answer.headers.get("link") ?? "", /<https:\/\/example\.org\/migrate-to-v2>; rel="deprecation"/);
      const current = await fetch(`${service.url}/api/v2/notes`);
      assert.equal(current.headers.get("deprecation"), null);
    });

    it("announces a deprecated route in every version", async () => {
      const answer = await fetch(`${service.url}/api/v2/notes/$schema`);
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get("deprecation"), `@${Date.parse("2026-06-01T00:00:00Z") / 1000}`);
      assert.match(answer.headers.get("link") ?? "", /example\.org\/schema/);
    });

    it("selects the version of an unversioned path by media type, Accept-Version or the default", async () => {
      const vendor = await fetch(`${service.url}/api/notes`, { headers: { accept: "application/vnd.chapkit.v1+json" } });
      assert.equal(vendor.headers.get("content-type"), "application/vnd.chapkit.v1+json");
      assert.ok(((await vendor.json()) as Json[]).every((item) => "title" in item));
      const header = await fetch(`${service.url}/api/notes`, { headers: { "accept-version": "2" } });
      assert.ok(((await header.json()) as Json[]).every((item) => "name" in item));
      const fallback = await fetch(`${service.url}/api/notes`);
      assert.ok(((await fallback.json()) as Json[]).every((item) => "name" in item));
    });

    it("answers a version the service does not serve with a 406 problem", async () => {
      const answer = await fetch(`${service.url}/api/notes`, { headers: { "accept-version": "7" } });
      assert.equal(answer.status, 406);
      const problem = (await answer.json()) as Json;
      assert.equal(problem.type, "urn:chapkit:error:not-acceptable");
      assert.match(String(problem.detail), /v1, v2/);
    });

    it("validates a v2 body after its transform (422 on the v2 shape's missing field)", async () => {
      const answer = await post(`${service.url}/api/v2/notes`, { stars: 1 });
      assert.equal(answer.status, 422);
    });

    it("lists both versions in OpenAPI, v1 and the deprecated route marked deprecated", async () => {
      const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, Json>>; "x-api-versions": Json[] };
      assert.ok(doc.paths["/api/v2/notes"]?.post);
      assert.equal(doc.paths["/api/v1/notes"]!.get!.deprecated, true);
      assert.equal(doc.paths["/api/v1/notes"]!.get!["x-sunset"], "2027-01-01T00:00:00.000Z");
      assert.deepEqual(doc.paths["/api/v1/notes"]!.get!.externalDocs, { description: "Migration guide", url: "https://example.org/migrate-to-v2" });
      assert.equal(doc.paths["/api/v2/notes"]!.get!.deprecated, undefined);
      assert.equal(doc.paths["/api/v2/notes/$schema"]!.get!.deprecated, true);
      assert.deepEqual(doc["x-api-versions"].map((version) => [version.name, version.deprecated, version.default]), [["v1", true, false], ["v2", false, true]]);
    });
  });
}
