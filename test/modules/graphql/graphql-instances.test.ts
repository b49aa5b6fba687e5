/**
 * GraphQL subscriptions across instances: two processes on one PostgreSQL
 * schema; a write through one reaches a graphql-ws subscriber of the other.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createClient } from "graphql-ws";
import { startService } from "../../_support/service-process.ts";
import { postgresStore } from "../../_support/stores.ts";

describe("GraphQL subscriptions across two processes on one PostgreSQL", () => {
  const store = postgresStore();
  const stopped: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const stop of stopped) await stop();
    await store.cleanup();
  });

  it("a mutation and a REST write through one process reach a subscriber of the other", async () => {
    await (await store.open()).close();
    const env = { DATABASE_URL: store.url() };
    const script = new URL("./_graphql-server.ts", import.meta.url).pathname;
    const a = await startService(script, env);
    stopped.push(() => a.stop());
    const b = await startService(script, env);
    stopped.push(() => b.stop());
    assert.ok(a.port && b.port, a.output() + b.output());

    const client = createClient({ url: `${b.url.replace("http", "ws")}/api/v1/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    stopped.unshift(() => client.dispose() as Promise<void>);
    const seen: { type: string; id: string; entity: { id: string; title: string } }[] = [];
    let wake = (): void => {};
    const stop = client.subscribe(
      { query: "subscription { notes_events { type id entity { id title } } }" },
      {
        next: (value) => {
          seen.push((value.data as { notes_events: (typeof seen)[number] }).notes_events);
          wake();
        },
        error: (error) => assert.fail(JSON.stringify(error)),
        complete: () => {},
      },
    );
    stopped.unshift(async () => stop());
    const arrived = (titles: string[]) => seen.find((event) => titles.includes(event.entity.title));
    const until = async (write: (i: number) => Promise<string>): Promise<(typeof seen)[number]> => {
      const titles: string[] = [];
      for (let i = 0; i < 50; i++) {
        titles.push(await write(i));
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
        const found = arrived(titles);
        if (found) return found;
      }
      assert.fail(`no event reached process b: ${a.output()}${b.output()}`);
    };

    // The subscription is live once process b has handled it: a mutation is repeated until one arrives.
    const created = await until(async (i) => {
      const response = await fetch(`${a.url}/api/v1/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
        body: JSON.stringify({
          query: "mutation($input: NoteInput!) { createNote(input: $input) { id } }",
          variables: { input: { title: `from a, mutation ${i}`, stars: 1 } },
        }),
      });
      const answer = await response.json() as { data?: unknown; errors?: unknown };
      assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
      return `from a, mutation ${i}`;
    });
    assert.equal(created.type, "entity.created");

    // Once live, a single REST write through process a is enough.
    const response = await fetch(`${a.url}/api/v1/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "from a, REST", stars: 2 }),
    });
    assert.equal(response.status, 201);
    const rest = await response.json() as { id: string };
    const event = await until(async () => "from a, REST");
    assert.equal(event.entity.id, rest.id);
    assert.equal(event.type, "entity.created");
  });
});
