/** RFC 8288 Link headers and the opt-in `_links` member over real HTTP, on SQLite and PostgreSQL. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { formatLinks, listLinks } from "../../src/http/links.ts";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { type ApiService, serveNotes, STORES } from "./_api-service.ts";

const Pin = defineEntity({ table: "pins", name: "Pin", fields: { title: Type.String(), stars: Type.Integer() } });
import type { ServiceBuilder } from "../../src/service/service-builder.ts";

/** `rel` → URLs of a Link header. */
function parseLinks(header: string | null): Record<string, string[]> {
  const links: Record<string, string[]> = {};
  for (const match of (header ?? "").matchAll(/<([^>]*)>;\s*rel="([^"]+)"/g)) (links[match[2]!] ??= []).push(match[1]!);
  return links;
}

describe("listLinks", () => {
  it("links a middle numbered page to the first, previous and next pages", () => {
    const links = listLinks(new Request("http://h/api/v1/notes?page=2&size=2"), { items: [1, 2], page: 2, size: 2, pages: 3, total: 6 });
    assert.equal(
      formatLinks(links),
      '<http://h/api/v1/notes?page=2&size=2>; rel="self", <http://h/api/v1/notes?page=1&size=2>; rel="first", ' +
        '<http://h/api/v1/notes?page=1&size=2>; rel="prev", <http://h/api/v1/notes?page=3&size=2>; rel="next", ' +
        '<http://h/api/v1/notes/$schema>; rel="describedby"',
    );
  });
});

for (const store of STORES) {
  describe(`Link headers over HTTP (${store.name})`, () => {
    let service: ApiService;
    before(async () => {
      service = await serveNotes(await store.open(), (builder) =>
        builder.withEntity(Pin, {
          links: { body: true, related: { notes: (item) => `/api/v1/notes?filter=title="${item.title}"` } },
        }) as unknown as ServiceBuilder);
      for (const title of ["a", "b", "c", "d", "e"]) {
        await fetch(`${service.url}/api/v1/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ title, stars: 1 }) });
      }
    });
    after(() => service.stop());

    it("walks a cursor list to its end by following rel=next", async () => {
      let url: string | undefined = `${service.url}/api/v1/notes?limit=2&sort=title`;
      const titles: string[] = [];
      while (url) {
        const answer = await fetch(url);
        const body = (await answer.json()) as { items: { title: string }[] };
        titles.push(...body.items.map((item) => item.title));
        const links = parseLinks(answer.headers.get("link"));
        assert.deepEqual(links.self, [url]);
        assert.deepEqual(links.describedby, [`${service.url}/api/v1/notes/$schema`]);
        url = links.next?.[0];
      }
      assert.deepEqual(titles, ["a", "b", "c", "d", "e"]);
    });

    it("gives a numbered page prev and next, and the last page no next", async () => {
      const last = await fetch(`${service.url}/api/v1/notes?page=3&size=2`);
      const links = parseLinks(last.headers.get("link"));
      assert.deepEqual(links.prev, [`${service.url}/api/v1/notes?page=2&size=2`]);
      assert.equal(links.next, undefined);
    });

    it("links an item to itself and its collection, without a _links member by default", async () => {
      const [first] = (await (await fetch(`${service.url}/api/v1/notes`)).json()) as { id: string }[];
      const answer = await fetch(`${service.url}/api/v1/notes/${first!.id}`);
      const links = parseLinks(answer.headers.get("link"));
      assert.deepEqual(links.self, [`${service.url}/api/v1/notes/${first!.id}`]);
      assert.deepEqual(links.collection, [`${service.url}/api/v1/notes`]);
      assert.equal("_links" in (await answer.json()), false);
    });

    it("adds _links and related collections where the entity opts in", async () => {
      const created = await fetch(`${service.url}/api/v1/pins`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "z", stars: 2 }),
      });
      const { id } = (await created.json()) as { id: string };
      const answer = await fetch(`${service.url}/api/v1/pins/${id}`);
      const body = (await answer.json()) as { _links: Record<string, { href: string; title?: string }[] | { href: string }> };
      assert.deepEqual(body._links.self, { href: `${service.url}/api/v1/pins/${id}` });
      assert.deepEqual(body._links.related, [{ href: `${service.url}/api/v1/notes?filter=title="z"`, title: "notes" }]);
      assert.match(answer.headers.get("link") ?? "", /rel="related"; title="notes"/);
      const page = (await (await fetch(`${service.url}/api/v1/pins?limit=1`)).json()) as { _links: { self: { href: string } } };
      assert.equal(page._links.self.href, `${service.url}/api/v1/pins?limit=1`);
    });
  });
}
