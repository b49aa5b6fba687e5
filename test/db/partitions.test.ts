/**
 * Time partitioning: an existing table rebuilt as a range-partitioned one on
 * PostgreSQL (rows, indexes and reads kept), partitions created ahead and
 * dropped by retention; SQLite deletes by retention instead.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { defineTable } from "../../src/core/entity.ts";
import type { Driver } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { intervalStart, partitionMigration, partitionName, Partitions, PARTITIONS_KEY } from "../../src/db/partitions.ts";
import { Type } from "@sinclair/typebox";
import { defineEntity, field } from "../../src/core/entity-definition.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { call, json } from "../_support/http.ts";
import { createRepository } from "../../src/db/repository.ts";
import { entityTableMigrations } from "../../src/db/table-migration.ts";
import { memoryStore, postgresStore } from "../_support/stores.ts";

const events = defineTable({ name: "events", columns: { kind: { type: "text", indexed: true }, body: { type: "json", nullable: true } } });
const NOW = new Date("2026-11-30T12:00:00.000Z");
const at = (iso: string) => ({ created_at: iso, updated_at: iso });

describe("partition intervals", () => {
  it("starts days, weeks (Monday) and months in UTC and names partitions by their first day", () => {
    assert.equal(intervalStart(NOW, "day").toISOString(), "2026-11-30T00:00:00.000Z");
    assert.equal(intervalStart(NOW, "week").toISOString(), "2026-11-30T00:00:00.000Z"); // a Monday
    assert.equal(intervalStart(new Date("2026-12-06T23:00:00Z"), "week").toISOString(), "2026-11-30T00:00:00.000Z");
    assert.equal(intervalStart(NOW, "month", 2).toISOString(), "2027-01-01T00:00:00.000Z");
    assert.equal(intervalStart(NOW, "month", -11).toISOString(), "2025-12-01T00:00:00.000Z");
    assert.equal(partitionName("events", intervalStart(NOW, "month", 1)), "events_p20261201");
  });
});

describe("time partitions on postgres", () => {
  const store = postgresStore();
  let db: Driver;
  const migrations = () => [...entityTableMigrations(events, "m"), partitionMigration("events", { interval: "month" }, "m", 3)];
  beforeEach(async () => {
    db = await store.open();
    await migrate(db, entityTableMigrations(events, "m"));
    await createRepository(db, events).insertMany([
      { kind: "old", body: null, ...at("2026-08-15T10:00:00.000Z") },
      { kind: "recent", body: { a: 1 }, ...at("2026-11-02T10:00:00.000Z") },
    ] as never);
  });
  afterEach(() => db.close());
  after(() => store.cleanup());

  const partitionOf = async (id: string) =>
    (await db.query<{ part: string }>(`SELECT tableoid::regclass::text AS part FROM events WHERE id = ?`, [id]))[0]?.part;

  it("rebuilds a filled table as a partitioned one, keeping its rows, its indexes and reads by id", async () => {
    await migrate(db, migrations());
    const [partitioned] = await db.query("SELECT 1 AS yes FROM pg_partitioned_table WHERE partrelid = to_regclass('events')");
    assert.ok(partitioned, "events is partitioned");
    const repo = createRepository(db, events);
    const rows = await repo.findMany({ sort: [{ field: "created_at", direction: "asc" }] });
    assert.deepEqual(rows.map((row) => (row as { kind?: string }).kind), ["old", "recent"]);
    assert.deepEqual((await repo.findById(rows[1]!.id))?.id, rows[1]!.id);
    const indexes = await db.query<{ name: string }>("SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'events' ORDER BY 1");
    assert.deepEqual(indexes.map((index) => index.name), ["events_pkey", "ix_events_kind"]);
    assert.equal(await partitionOf(rows[0]!.id), "events_default");
    assert.deepEqual((await migrate(db, migrations())).applied, [], "applied once");
  });

  it("creates the current and the next partitions, and new rows land in theirs", async () => {
    await migrate(db, migrations());
    const partitions = new Partitions();
    partitions.add("events", { interval: "month", ahead: 2 });
    const report = await partitions.maintain(db, NOW);
    // November already has rows in the default partition, so it stays there; December on get partitions.
    assert.deepEqual(report.created, ["events_p20261201", "events_p20270101"]);
    const row = await createRepository(db, events).insert({ kind: "new", body: null, ...at("2026-12-03T00:00:00.000Z") } as never);
    assert.equal(await partitionOf(row.id), "events_p20261201");
    assert.deepEqual((await partitions.maintain(db, NOW)).created, [], "a second pass creates nothing");
  });

  it("drops partitions and deletes default rows older than the retention", async () => {
    await migrate(db, migrations());
    const partitions = new Partitions();
    partitions.add("events", { interval: "month", ahead: 1, retention: 1 });
    await partitions.maintain(db, new Date("2026-06-10T00:00:00Z")); // creates June and July
    await createRepository(db, events).insert({ kind: "june", body: null, ...at("2026-06-20T00:00:00.000Z") } as never);
    const report = await partitions.maintain(db, NOW);
    assert.deepEqual(report.dropped.sort(), ["events_p20260601", "events_p20260701"]);
    assert.equal(report.deleted, 1, "the August row in the default partition");
    const kinds = (await db.query<{ kind: string }>("SELECT kind FROM events ORDER BY created_at")).map((row) => row.kind);
    assert.deepEqual(kinds, ["recent"]);
  });
});

describe("retention on sqlite", () => {
  it("deletes rows older than the retention (SQLite has no partitions)", async () => {
    const db = await memoryStore().open();
    try {
      await migrate(db, [...entityTableMigrations(events, "m"), partitionMigration("events", {}, "m", 3)]);
      await createRepository(db, events).insertMany([{ kind: "old", body: null, ...at("2026-08-15T10:00:00.000Z") }, { kind: "new", body: null, ...at("2026-11-15T10:00:00.000Z") }] as never);
      const partitions = new Partitions();
      partitions.add("events", { interval: "month", retention: 2 });
      assert.deepEqual(await partitions.maintain(db, NOW), { created: [], dropped: [], deleted: 1 });
    } finally {
      await db.close();
    }
  });
});

describe("partitioned tables of a service on postgres", () => {
  const store = postgresStore();
  after(() => store.cleanup());

  it("partitions the audit log, records into it and drops months past auditRetentionMonths", async () => {
    const db = await store.open();
    const { authService, ADMIN_KEY } = await import("../modules/auth/_service.ts");
    const service = await authService({ db, auth: { auditRetentionMonths: 2 } });
    try {
      const [partitioned] = await db.query("SELECT 1 AS yes FROM pg_partitioned_table WHERE partrelid = to_regclass('auth_audit')");
      assert.ok(partitioned, "auth_audit is partitioned");
      const current = partitionName("auth_audit", intervalStart(new Date(), "month"));
      const names = (await db.query<{ name: string }>("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('auth_audit')")).map((r) => r.name);
      assert.ok(names.includes(current) && names.includes(partitionName("auth_audit", intervalStart(new Date(), "month", 3))), names.join(", "));
      const created = await service.call("POST", "/api/v1/auth/keys", { key: ADMIN_KEY, body: { name: "k", role: "viewer" } });
      assert.equal(created.status, 201, await created.clone().text());
      const [row] = await db.query<{ part: string }>("SELECT tableoid::regclass::text AS part FROM auth_audit WHERE event = 'auth.key.issued'");
      assert.equal(row?.part, current);
      const audit = await service.call("GET", "/api/v1/auth/audit?event=auth.key.issued", { key: ADMIN_KEY });
      assert.equal(((await audit.json()) as { items: unknown[] }).items.length, 1);
      // Five months on, the month of that event is past the retention: its partition goes.
      const partitions = service.app.chapkit.context.get<Partitions>(PARTITIONS_KEY);
      const report = await partitions.maintain(db, new Date(Date.now() + 5 * 31 * 86_400_000));
      assert.ok(report.dropped.includes(current), report.dropped.join(", "));
      assert.equal((await db.query("SELECT 1 FROM auth_audit WHERE event = 'auth.key.issued'")).length, 0);
    } finally {
      await service.close();
      await db.close();
    }
  });

  it("partitions an entity that opts in, with every CRUD route working, and refuses one with a unique column", async () => {
    const db = await store.open();
    const Reading = defineEntity({ table: "readings", fields: { site: Type.String(), value: Type.Number() } });
    const app = await new ServiceBuilder({ info: { display_name: "partitions" } })
      .withSettings({ env: { LOG_LEVEL: "warn" } })
      .withDatabase(db)
      .withEntity(Reading, { partition: { interval: "day", ahead: 2, retention: 30 } })
      .build();
    try {
      const names = (await db.query<{ name: string }>("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('readings') ORDER BY 1")).map((r) => r.name);
      assert.deepEqual(names, ["readings_default", ...[0, 1, 2].map((d) => partitionName("readings", intervalStart(new Date(), "day", d)))]);
      const created = await json<{ id: string }>(await call(app, "POST", "/api/v1/readings", { site: "a", value: 1 }), 201);
      await json(await call(app, "PUT", `/api/v1/readings/${created.id}`, { site: "b", value: 2 }), 200);
      const list = await json<{ site: string }[]>(await call(app, "GET", "/api/v1/readings?site=b"), 200);
      assert.deepEqual(list.map((item) => item.site), ["b"]);
      assert.equal((await call(app, "DELETE", `/api/v1/readings/${created.id}`)).status, 204);
      assert.equal((await call(app, "GET", `/api/v1/readings/${created.id}`)).status, 404);
    } finally {
      await app.chapkit.close();
      await db.close();
    }
    const Unique = defineEntity({ table: "uniques", fields: { code: field(Type.String(), { unique: true }) } });
    assert.throws(() => new ServiceBuilder({ info: { display_name: "x" } }).withEntity(Unique, { partition: {} }), /cannot keep its unique code/);
  });
});
