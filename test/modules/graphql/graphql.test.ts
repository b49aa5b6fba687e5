/** GraphQL generated from the registered entities, over real HTTP on SQLite and PostgreSQL. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pack } from "msgpackr";
import { createClient } from "graphql-ws";
import type { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { temporarySqlite } from "../../../src/testing/stores.ts";
import { type ApiService, serveNotes, STORES } from "../../http/_api-service.ts";

interface GraphqlAnswer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, any> }[];
}

async function gql(url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphqlAnswer> {
  const response = await fetch(`${url}/api/v1/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return (await response.json()) as GraphqlAnswer;
}

const CREATE = "mutation($input: NoteInput!) { createNote(input: $input) { id title stars tags } }";

for (const store of STORES) {
  describe(`GraphQL over HTTP (${store.name})`, () => {
    let service: ApiService;
    before(async () => {
      service = await serveNotes(await store.open(), (builder) => builder.withGraphql() as ServiceBuilder);
      for (const [title, stars] of [["alpha", 1], ["beta", 5], ["gamma", 3], ["delta", 4]] as const) {
        const created = await gql(service.url, CREATE, { input: { title, stars, tags: [title[0]] } });
        assert.equal(created.errors, undefined, JSON.stringify(created.errors));
      }
    });
    after(() => service.stop());

    it("creates through the manager, and the REST route sees the record", async () => {
      const created = await gql(service.url, CREATE, { input: { title: "epsilon", stars: 2 } });
      const id = created.data!.createNote.id as string;
      const rest = (await (await fetch(`${service.url}/api/v1/notes/${id}`)).json()) as Record<string, unknown>;
      assert.equal(rest.title, "epsilon");
      assert.equal(rest.stars, 2);
    });

    it("filters with the REST filter grammar and sorts", async () => {
      const answer = await gql(service.url, '{ notes(filter: "stars >= 3", sort: "-stars") { items { title stars } next_cursor } }');
      assert.deepEqual(answer.data!.notes.items, [{ title: "beta", stars: 5 }, { title: "delta", stars: 4 }, { title: "gamma", stars: 3 }]);
      assert.equal(answer.data!.notes.next_cursor, null);
    });

    it("pages with cursors until next_cursor is null, and counts on request", async () => {
      const titles: string[] = [];
      let cursor: string | null = null;
      do {
        const answer: GraphqlAnswer = await gql(
          service.url,
          "query($cursor: String) { notes(limit: 2, sort: \"title\", cursor: $cursor, count: true) { items { title } next_cursor total } }",
          { cursor },
        );
        titles.push(...answer.data!.notes.items.map((item: { title: string }) => item.title));
        assert.ok(answer.data!.notes.total >= 5);
        cursor = answer.data!.notes.next_cursor;
      } while (cursor);
      assert.deepEqual(titles, [...titles].sort());
      assert.ok(titles.includes("alpha") && titles.includes("gamma"));
    });

    it("answers only the selected fields", async () => {
      const answer = await gql(service.url, "{ notes(limit: 1, sort: \"title\") { items { title } } }");
      assert.deepEqual(answer.data!.notes.items, [{ title: "alpha" }]);
    });

    it("reads one record by id, and null for an unknown id", async () => {
      const [first] = (await (await fetch(`${service.url}/api/v1/notes?filter=title%3D%22gamma%22`)).json()) as { id: string }[];
      const answer = await gql(service.url, `{ note(id: "${first!.id}") { title stars } missing: note(id: "01K79YAHJ7BR4E87VVTG8FNBMA") { id } }`);
      assert.deepEqual(answer.data, { note: { title: "gamma", stars: 3 }, missing: null });
    });

    it("patches and deletes through the same manager", async () => {
      const created = await gql(service.url, CREATE, { input: { title: "zeta", stars: 1, tags: [] } });
      const id = created.data!.createNote.id as string;
      const patched = await gql(service.url, "mutation($id: ID!) { patchNote(id: $id, patch: { stars: 9 }) { title stars } }", { id });
      assert.deepEqual(patched.data?.patchNote, { title: "zeta", stars: 9 }, JSON.stringify(patched.errors));
      const removed = await gql(service.url, "mutation($id: ID!) { deleteNote(id: $id) }", { id });
      assert.equal(removed.data!.deleteNote, true);
      assert.equal((await fetch(`${service.url}/api/v1/notes/${id}`)).status, 404);
    });

    it("answers a validation failure as an error carrying the problem, and stores nothing", async () => {
      const before = (await (await fetch(`${service.url}/api/v1/notes`)).json()) as unknown[];
      const answer = await gql(service.url, CREATE, { input: { title: "", stars: 1 } });
      assert.equal(answer.errors?.[0]?.extensions?.status, 422);
      assert.equal(answer.errors?.[0]?.extensions?.code, "urn:chapkit:error:validation-failed");
      const after = (await (await fetch(`${service.url}/api/v1/notes`)).json()) as unknown[];
      assert.equal(after.length, before.length);
    });

    it("answers a bad filter as an invalid-query error", async () => {
      const answer = await gql(service.url, '{ notes(filter: "nope >>> 1") { items { id } } }');
      assert.equal(answer.errors?.[0]?.extensions?.status, 400);
    });

    it("rejects an unknown field before running anything (GraphQL validation)", async () => {
      const response = await fetch(`${service.url}/api/v1/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
        body: JSON.stringify({ query: "{ notes { items { password } } }" }),
      });
      assert.equal(response.status, 400);
      const answer = (await response.json()) as GraphqlAnswer;
      assert.match(answer.errors![0]!.message, /password/);
    });

    it("takes a MessagePack request body", async () => {
      const response = await fetch(`${service.url}/api/v1/graphql`, {
        method: "POST",
        headers: { "content-type": "application/msgpack", accept: "application/json" },
        body: pack({ query: "{ notes(filter: \"title = \\\"beta\\\"\") { items { stars } } }" }) as BodyInit,
      });
      const answer = (await response.json()) as GraphqlAnswer;
      assert.deepEqual(answer.data!.notes.items, [{ stars: 5 }]);
    });

    it("streams committed changes matching a filter over graphql-ws", async () => {
      const client = createClient({ url: `${service.url.replace("http", "ws")}/api/v1/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      const seen: Record<string, any>[] = [];
      let ready!: () => void;
      const first = new Promise<void>((resolve) => (ready = resolve));
      const stop = client.subscribe(
        { query: 'subscription { notes_events(filter: "stars >= 7") { type entity { title stars } } }' },
        { next: (value) => {
          seen.push(value.data as Record<string, any>);
          ready();
        }, error: (error) => assert.fail(JSON.stringify(error)), complete: () => {} },
      );
      try {
        // The subscription is live once the server acknowledged it; writes are retried until one is seen.
        for (let i = 0; seen.length === 0 && i < 50; i++) {
          await gql(service.url, CREATE, { input: { title: `low ${i}`, stars: 1 } });
          await gql(service.url, CREATE, { input: { title: `high ${i}`, stars: 8 } });
          await Promise.race([first, new Promise((resolve) => setTimeout(resolve, 100))]);
        }
        assert.ok(seen.length > 0);
        for (const value of seen) {
          assert.equal(value.notes_events.type, "entity.created");
          assert.ok(value.notes_events.entity.stars >= 7, JSON.stringify(value));
        }
      } finally {
        stop();
        await client.dispose();
      }
    });

    it("serves queries by GET", async () => {
      const response = await fetch(`${service.url}/api/v1/graphql?query=${encodeURIComponent("{ notes(limit: 1, sort: \"title\") { items { title } } }")}`, {
        headers: { accept: "application/graphql-response+json" },
      });
      const answer = (await response.json()) as GraphqlAnswer;
      assert.deepEqual(answer.data!.notes.items, [{ title: "alpha" }]);
    });
  });
}

describe("GraphQL under auth", () => {
  const VIEWER = "viewer-static-key-0123456789abcdef0123";
  let service: ApiService;
  before(async () => {
    service = await serveNotes(await temporarySqlite(), (builder) =>
      builder.withGraphql().withAuth({
        jwtSecret: "j".repeat(48),
        staticKeys: [VIEWER],
        staticKeyRole: "viewer",
        passwordCost: { ln: 10, r: 8, p: 1 },
        env: {},
      }) as ServiceBuilder);
  });
  after(() => service.stop());

  it("refuses a request without credentials (401)", async () => {
    const response = await fetch(`${service.url}/api/v1/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ notes { items { id } } }" }),
    });
    assert.equal(response.status, 401);
  });

  it("lets a viewer query but not mutate, with the REST routes' permissions", async () => {
    const read = await gql(service.url, "{ notes { items { id } } }", undefined, { "x-api-key": VIEWER });
    assert.deepEqual(read.data!.notes.items, []);
    const write = await gql(service.url, CREATE, { input: { title: "x", stars: 1 } }, { "x-api-key": VIEWER });
    assert.equal(write.errors?.[0]?.extensions?.status, 403);
    assert.match(write.errors![0]!.message, /notes:write/);
  });
});
