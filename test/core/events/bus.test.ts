/** The event bus: selection by type, collection and filter; after-commit delivery; resume; opt-out. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EventBus } from "../../../src/core/events/bus.ts";
import type { ServiceEvent } from "../../../src/core/events/types.ts";
import { createLogger } from "../../../src/core/logging.ts";
import { parseFilter } from "../../../src/core/query/filter-parse.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import { trackCommits } from "../../../src/db/commit-hooks.ts";
import { openDatabase } from "../../../src/db/open.ts";

const note = (title: string, size = 1) => ({ type: "entity.created" as const, collection: "notes", id: newUlid(), entity: { title, size } });

function collect(bus: EventBus, selector: Parameters<EventBus["subscribe"]>[0] = {}): ServiceEvent[] {
  const seen: ServiceEvent[] = [];
  bus.subscribe(selector, (event) => seen.push(event));
  return seen;
}

describe("event bus", () => {
  test("delivers each event with an id, a timestamp and the Standard Webhooks data shape", async () => {
    const bus = new EventBus();
    const seen = collect(bus);
    const input = note("a");
    await bus.publish(input);
    assert.equal(seen.length, 1);
    const [event] = seen;
    assert.equal(event!.type, "entity.created");
    assert.deepEqual(event!.data, { collection: "notes", id: input.id, entity: { title: "a", size: 1 } });
    assert.match(event!.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.ok(!Number.isNaN(Date.parse(event!.timestamp)));
  });

  test("selects by type family, collection and the filter grammar over the entity", async () => {
    const bus = new EventBus();
    const jobs = collect(bus, { types: ["job.*"] });
    const big = collect(bus, { collections: ["notes"], filter: parseFilter("size >= 10 && title ~ \"RE\"") });
    await bus.publish({ type: "job.completed", collection: "jobs", id: newUlid(), entity: { status: "completed" } });
    await bus.publish(note("red", 12));
    await bus.publish(note("red", 2));
    await bus.publish(note("blue", 20));
    await bus.publish({ type: "entity.created", collection: "other", id: newUlid(), entity: { title: "red", size: 50 } });
    assert.deepEqual(jobs.map((e) => e.type), ["job.completed"]);
    assert.deepEqual(big.map((e) => (e.data.entity as { size: number }).size), [12]);
  });

  test("an asynchronous allow keeps events in order and drops the refused ones", async () => {
    const bus = new EventBus();
    const seen = collect(bus, {
      allow: async (event) => {
        await new Promise((resolve) => setTimeout(resolve, event.data.id.endsWith("0") ? 5 : 0));
        return (event.data.entity as { title: string }).title !== "secret";
      },
    });
    for (const title of ["one", "secret", "two", "three"]) await bus.publish(note(title));
    while (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(seen.map((e) => (e.data.entity as { title: string }).title), ["one", "two", "three"]);
  });

  test("a throwing subscriber does not stop the others", async () => {
    const bus = new EventBus();
    bus.subscribe({}, () => {
      throw new Error("boom");
    });
    const seen = collect(bus);
    await bus.publish(note("a"));
    assert.equal(seen.length, 1);
  });

  test("resumes after a kept event id, and says so when the id is no longer kept", async () => {
    const bus = new EventBus({ replayLimit: 3 });
    const seen = collect(bus);
    for (const title of ["1", "2", "3", "4"]) await bus.publish(note(title));
    assert.deepEqual(bus.since(seen[1]!.id)?.map((e) => e.id), [seen[2]!.id, seen[3]!.id]);
    assert.deepEqual(bus.since(seen[3]!.id), []);
    assert.equal(bus.since(seen[0]!.id), undefined);
  });

  test("keeps the last replayLimit events in order however often the ring wraps; a limit of 0 keeps none", async () => {
    const bus = new EventBus({ replayLimit: 3 });
    const seen = collect(bus);
    for (let i = 0; i < 11; i++) await bus.publish(note(String(i)));
    const ids = seen.map((event) => event.id);
    assert.equal(bus.since(ids[7]!), undefined);
    assert.deepEqual(bus.since(ids[8]!)?.map((e) => e.id), [ids[9], ids[10]]);
    assert.deepEqual(bus.since(ids[9]!)?.map((e) => e.id), [ids[10]]);
    assert.deepEqual(bus.since(ids[10]!), []);
    const none = new EventBus({ replayLimit: 0 });
    const mine = collect(none);
    await none.publish(note("x"));
    assert.equal(none.since(mine[0]!.id), undefined);
  });

  test("an excluded collection publishes nothing", async () => {
    const bus = new EventBus({ exclude: ["audit"] });
    bus.exclude("notes");
    const seen = collect(bus);
    await bus.publish(note("a"));
    await bus.publish({ type: "entity.created", collection: "audit", id: newUlid(), entity: {} });
    await bus.publish({ type: "entity.created", collection: "kept", id: newUlid(), entity: {} });
    assert.deepEqual(seen.map((e) => e.data.collection), ["kept"]);
    assert.equal(bus.publishes("notes"), false);
  });
});

describe("event bus in transactions (SQLite)", () => {
  test("holds events until the commit and drops those of a rolled-back transaction or savepoint", async () => {
    const db = trackCommits(await openDatabase("sqlite::memory:"));
    try {
      const bus = new EventBus({ hooks: db });
      const seen = collect(bus);
      await db.transaction(async () => {
        await bus.publish(note("committed"));
        assert.equal(seen.length, 0, "nothing is delivered before the commit");
        await db.transaction(async () => {
          await bus.publish(note("savepoint kept"));
        });
        await db.transaction(async () => {
          await bus.publish(note("savepoint undone"));
          throw new Error("undo the savepoint");
        }).catch(() => {});
        assert.equal(seen.length, 0);
      });
      await db.transaction(async () => {
        await bus.publish(note("rolled back"));
        throw new Error("roll back");
      }).catch(() => {});
      assert.deepEqual(seen.map((e) => (e.data.entity as { title: string }).title), ["committed", "savepoint kept"]);
    } finally {
      await db.close();
    }
  });
});

describe("event bus with a journal", () => {
  test("delivers in publication order when an earlier journal write ends later, a commit's events included", async () => {
    const db = trackCommits(await openDatabase("sqlite::memory:"));
    try {
      // Each append waits until the test lets it finish, in whatever order the test picks.
      const writes: { titles: string[]; finish: () => void }[] = [];
      const journal = {
        append: (events: readonly ServiceEvent[]) =>
          new Promise<void>((finish) => writes.push({ titles: events.map((e) => (e.data.entity as { title: string }).title), finish })),
        listen: () => Promise.resolve(() => Promise.resolve()),
      };
      const bus = new EventBus({ hooks: db, journal });
      const seen = collect(bus);
      const titles = () => seen.map((e) => (e.data.entity as { title: string }).title);
      const first = bus.publish(note("first"));
      const second = bus.publish(note("second"));
      const committed = db.transaction(async () => {
        await bus.publish(note("committed"));
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(writes.map((w) => w.titles[0]), ["first", "second", "committed"]);
      writes[2]!.finish();
      await committed;
      writes[1]!.finish();
      await second;
      assert.deepEqual(titles(), [], "nothing overtakes the first publication while its journal write runs");
      writes[0]!.finish();
      await first;
      assert.deepEqual(titles(), ["first", "second", "committed"]);
      // With nothing pending, a publication is delivered as soon as its write ends.
      const alone = bus.publish(note("alone"));
      await new Promise((resolve) => setTimeout(resolve, 0));
      writes[3]!.finish();
      await alone;
      assert.deepEqual(titles(), ["first", "second", "committed", "alone"]);
    } finally {
      await db.close();
    }
  });

  test("a failed journal write outside a transaction is logged and its events still delivered in order", async () => {
    const lines: string[] = [];
    const logger = createLogger({ format: "json", write: (line) => lines.push(JSON.parse(line).event) });
    let calls = 0;
    const journal = {
      append: () => (++calls === 1 ? new Promise<void>((_, reject) => setTimeout(() => reject(new Error("journal down")), 5)) : Promise.resolve()),
      listen: () => Promise.resolve(() => Promise.resolve()),
    };
    const bus = new EventBus({ journal, logger });
    const seen = collect(bus);
    await Promise.all([bus.publish(note("failed write")), bus.publish(note("next"))]);
    assert.deepEqual(seen.map((e) => (e.data.entity as { title: string }).title), ["failed write", "next"]);
    assert.deepEqual(lines, ["events.journal.failed"]);
  });
});
