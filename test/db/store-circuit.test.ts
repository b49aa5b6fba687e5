/**
 * The PostgreSQL store's circuit breaker, against a real server behind a TCP
 * proxy the test cuts: it opens after consecutive connection failures and
 * answers 503 with Retry-After without waiting on the server, a transaction
 * cut in flight leaves nothing behind, the circuit closes by itself through
 * its probe once the server is back, and a service on the store answers its
 * routes and its health accordingly.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { CircuitOpenError, type CircuitStateChange } from "../../src/core/circuit-breaker.ts";
import { ConflictError, UnavailableError } from "../../src/core/errors.ts";
import type { Driver } from "../../src/db/driver.ts";
import { openDatabase } from "../../src/db/open.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { DATABASE_URL, dropSchema } from "../_support/stores.ts";
import { call } from "../http/_notes.ts";
import { eventually } from "../modules/jobs/_support.ts";
import { databaseUrlAt, postgresProxy, type TcpProxy } from "./_tcp-proxy.ts";

const schema = `chapkit_circuit_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

const proxiedUrl = (proxy: TcpProxy): string => databaseUrlAt(proxy.port);

after(() => dropSchema(schema));

describe("the PostgreSQL store's circuit breaker", () => {
  const proxy = postgresProxy();
  const changes: CircuitStateChange[] = [];
  let db: Driver;

  const restore = async (): Promise<void> => {
    await proxy.listen();
    await eventually(() => db.circuit?.state === "closed");
  };

  before(async () => {
    await proxy.listen();
    db = await openDatabase(proxiedUrl(proxy), {
      postgres: { schema, max: 4, connectRetries: 0, breaker: { failureThreshold: 2, probeIntervalMs: 50 } },
    });
    db.circuit?.onStateChange((change) => changes.push(change));
    await db.exec("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  });
  after(async () => {
    await proxy.listen().catch(() => {});
    // A connection lost inside a transaction can keep the pool's graceful end waiting for its 5 s limit.
    await Promise.race([db.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    await proxy.cut();
  });

  it("stays closed on errors that prove the server answered", async () => {
    await db.exec("INSERT INTO items (id, name) VALUES (?, ?)", [1, "one"]);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(db.exec("INSERT INTO items (id, name) VALUES (?, ?)", [1, "again"]), ConflictError);
    }
    assert.equal(db.circuit?.state, "closed");
  });

  it("opens after consecutive connection failures and then answers 503 with Retry-After at once", async () => {
    await proxy.cut();
    try {
      const first = await db.query("SELECT 1").catch((e: unknown) => e);
      assert.ok(first instanceof UnavailableError, String(first));
      assert.equal(first.headers["Retry-After"], "1");
      await assert.rejects(db.query("SELECT 1"), UnavailableError);
      assert.equal(db.circuit?.state, "open");
      const rejected = await db.exec("INSERT INTO items (id, name) VALUES (?, ?)", [2, "two"]).catch((e: unknown) => e);
      assert.ok(rejected instanceof CircuitOpenError, String(rejected));
      assert.equal(rejected.status, 503);
      assert.equal(rejected.headers["Retry-After"], "1");
      await assert.rejects(db.transaction((tx) => tx.exec("SELECT 1")), CircuitOpenError);
    } finally {
      await restore();
    }
    assert.deepEqual(changes.map((c) => c.to).slice(0, 1), ["open"]);
  });

  it("closes by itself once the server accepts connections again, without any request, on a new pool", async () => {
    await proxy.cut();
    await assert.rejects(db.query("SELECT 1"));
    await assert.rejects(db.query("SELECT 1"));
    assert.equal(db.circuit?.state, "open");
    changes.length = 0;
    await proxy.listen();
    await eventually(() => db.circuit?.state === "closed");
    assert.deepEqual(changes.map((c) => c.to), ["half-open", "closed"]);
    assert.equal((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM items"))[0]?.n, 1);
  });

  it("parses and binds array values on a pool rebuilt after an outage, without reading the types again", async () => {
    await proxy.cut();
    await assert.rejects(db.query("SELECT 1"));
    await assert.rejects(db.query("SELECT 1"));
    await restore();
    const [row] = await db.query<{ ids: number[]; names: string[] }>(
      "SELECT ARRAY[1, 2]::int[] AS ids, ?::text[] AS names",
      [["a", "b,c"] as unknown as string],
    );
    assert.deepEqual(row?.ids, [1, 2]);
    assert.deepEqual(row?.names, ["a", "b,c"]);
  });

  it("rolls back a transaction whose connection is lost in flight: nothing of it is applied", async () => {
    let inserted!: () => void;
    const firstDone = new Promise<void>((resolve) => (inserted = resolve));
    const tx = db.transaction(async (t) => {
      await t.exec("INSERT INTO items (id, name) VALUES (?, ?)", [10, "first half"]);
      inserted();
      await t.query("SELECT pg_sleep(2)");
      await t.exec("INSERT INTO items (id, name) VALUES (?, ?)", [11, "second half"]);
    }).then(() => undefined, (e: unknown) => e);
    await firstDone;
    await proxy.cut();
    const error = await tx;
    assert.ok(error instanceof UnavailableError, String(error));
    await restore();
    const rows = await db.query<{ id: number }>("SELECT id FROM items WHERE id IN (10, 11)");
    assert.equal(rows.length, 0);
  });

  it("serves the next statements after a transaction lost its connection, even on a one-connection pool", async () => {
    const single = await openDatabase(proxiedUrl(proxy), {
      postgres: { schema, max: 1, connectRetries: 0, breaker: { failureThreshold: 100, probeIntervalMs: 50 } },
    });
    try {
      for (let round = 0; round < 2; round++) {
        let started!: () => void;
        const inFlight = new Promise<void>((resolve) => (started = resolve));
        const tx = single.transaction(async (t) => {
          await t.exec("INSERT INTO items (id, name) VALUES (?, ?)", [20 + round, "lost"]);
          started();
          await t.query("SELECT pg_sleep(2)");
        }).then(() => undefined, (e: unknown) => e);
        await inFlight;
        await proxy.cut();
        assert.ok((await tx) instanceof UnavailableError);
        await proxy.listen();
        const answered = await Promise.race([
          single.query<{ n: number }>("SELECT count(*)::int AS n FROM items WHERE id >= 20").then((rows) => rows[0]?.n),
          new Promise((resolve) => setTimeout(() => resolve("hung"), 5000)),
        ]);
        assert.equal(answered, 0);
        await single.transaction((t) => t.exec("SELECT 1"));
      }
    } finally {
      await Promise.race([single.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
  });

  it("counts pings that get no answer, so a server that stops answering opens the circuit without any request", async () => {
    proxy.stall();
    try {
      for (let i = 0; i < 2; i++) await assert.rejects(db.ping(100), /did not answer within 100 ms/);
      assert.equal(db.circuit?.state, "open");
      await assert.rejects(db.query("SELECT 1"), CircuitOpenError);
    } finally {
      proxy.resume();
    }
    await eventually(() => db.circuit?.state === "closed");
    await db.query("SELECT 1");
  });

  it("can be turned off", async () => {
    const plain = await openDatabase(DATABASE_URL, { postgres: { schema, breaker: false } });
    try {
      assert.equal(plain.circuit, undefined);
      await plain.ping(1000);
    } finally {
      await plain.close();
    }
  });
});

describe("a service on a PostgreSQL store that goes away", () => {
  const proxy = postgresProxy();
  const events: string[] = [];
  let db: Driver;
  let app: ServiceApp;

  before(async () => {
    await proxy.listen();
    db = await openDatabase(proxiedUrl(proxy), {
      postgres: { schema, max: 4, connectRetries: 0, breaker: { failureThreshold: 2, probeIntervalMs: 50 } },
    });
    app = await new ServiceBuilder({ info: { display_name: "Outage" } })
      .withDatabase(db)
      .withLogging({ format: "json", requests: false, write: (line) => events.push(JSON.parse(line).event) })
      .withHealth()
      .withConfig(Type.Object({ n: Type.Integer() }, { title: "OutageConfig" }))
      .build();
  });
  after(async () => {
    await proxy.listen().catch(() => {});
    await app.chapkit.close();
    await db.close();
    await proxy.cut();
  });

  it("answers writes and reads with 503 problems carrying Retry-After, and health 503 naming the database", async () => {
    const created = await call(app, "POST", "/api/v1/config", { name: "before", data: { n: 1 } });
    assert.equal(created.status, 201, created.text);
    await proxy.cut();
    try {
      for (let i = 0; i < 3; i++) {
        const write = await call(app, "POST", "/api/v1/config", { name: `during-${i}`, data: { n: 2 } });
        assert.equal(write.status, 503);
        assert.equal(write.headers.get("content-type"), "application/problem+json");
        assert.equal(write.body.type, "urn:chapkit:error:unavailable");
        assert.ok(Number(write.headers.get("retry-after")) >= 1);
      }
      const read = await call(app, "GET", "/api/v1/config");
      assert.equal(read.status, 503);
      assert.ok(Number(read.headers.get("retry-after")) >= 1);
      const health = await call(app, "GET", "/api/v1/health");
      assert.equal(health.status, 503);
      assert.equal(health.body.status, "unhealthy");
      assert.equal(health.body.checks.database.state, "unhealthy");
      assert.match(health.body.checks.database.message, /^Database connection failed: /);
    } finally {
      await proxy.listen();
    }
    await eventually(async () => (await call(app, "GET", "/api/v1/health")).status === 200);
    const list = await call(app, "GET", "/api/v1/config");
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((c: { name: string }) => c.name), ["before"]);
  });

  it("logs the outage once when the circuit opens and once when it closes, not a stack per refused request", () => {
    assert.equal(events.filter((e) => e === "db.circuit.open").length, 1);
    assert.equal(events.filter((e) => e === "db.circuit.closed").length, 1);
    // Only the failures that opened the circuit (threshold 2) are logged as request errors.
    assert.equal(events.filter((e) => e === "http.request.error").length, 2);
  });

  it("pings afresh after a connection failure instead of answering its cached healthy state", async () => {
    assert.equal((await call(app, "GET", "/api/v1/health")).status, 200);
    await proxy.cut();
    try {
      await assert.rejects(db.query("SELECT 1"), UnavailableError);
      assert.equal(db.circuit?.state, "closed");
      const health = await call(app, "GET", "/api/v1/health");
      assert.equal(health.status, 503);
      assert.equal(health.body.checks.database.state, "unhealthy");
    } finally {
      await proxy.listen();
    }
    await eventually(async () => (await call(app, "GET", "/api/v1/health")).status === 200);
  });
});

describe("the store breaker's settings", () => {
  it("opens after database.breakerThreshold connection failures of a service that opened its own store", async () => {
    const proxy = postgresProxy();
    await proxy.listen();
    const url = new URL(proxiedUrl(proxy));
    url.searchParams.set("search_path", schema);
    const app = await new ServiceBuilder({
      info: { display_name: "Settings" },
      settings: { database: { url: url.toString(), breakerThreshold: 1, breakerProbeMs: 60_000 } },
    }).withConfig(Type.Object({ n: Type.Integer() }, { title: "SettingsConfig" })).build();
    const db = app.chapkit.context.db;
    try {
      await proxy.cut();
      assert.equal((await call(app, "GET", "/api/v1/config")).status, 503);
      assert.equal(db.circuit?.state, "open");
      assert.equal((await call(app, "GET", "/api/v1/config")).headers.get("retry-after"), "60");
    } finally {
      await proxy.listen();
      await Promise.race([app.chapkit.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
      await proxy.cut();
    }
  });
});
