/**
 * PostgreSQL faults through a real TCP proxy between the driver and the
 * server: an unreachable server gives clear UnavailableErrors and a failing
 * ping, the store recovers when the server returns, start-up retries with
 * backoff, statement timeouts end slow statements.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { UnavailableError } from "../../src/core/errors.ts";
import type { Driver } from "../../src/db/driver.ts";
import { openDatabase } from "../../src/db/open.ts";
import { DATABASE_URL, dropSchema } from "../_support/stores.ts";
import { databaseUrlAt, freePort, TcpProxy } from "./_tcp-proxy.ts";

const upstreamUrl = new URL(DATABASE_URL);
const upstream = { host: upstreamUrl.hostname, port: Number(upstreamUrl.port || 5432) };


const schema = `chapkit_faults_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

after(() => dropSchema(schema));

describe("PostgreSQL behind a proxy that goes away and comes back", () => {
  const proxy = new TcpProxy(upstream);
  let db: Driver;

  before(async () => {
    await proxy.listen();
    db = await openDatabase(databaseUrlAt(proxy.port), { postgres: { schema, max: 2, connectRetries: 0, connectTimeoutSeconds: 2 } });
    await db.exec("CREATE TABLE IF NOT EXISTS beats (n INTEGER NOT NULL)");
  });
  after(async () => {
    await db.close();
    await proxy.cut();
  });

  it("answers ping and queries while the server is reachable", async () => {
    await db.ping(1000);
    await db.exec("INSERT INTO beats (n) VALUES (?)", [1]);
    assert.equal((await db.query<{ n: number }>("SELECT n FROM beats")).length, 1);
  });

  it("fails ping with a clear UnavailableError while the server is unreachable", async () => {
    await proxy.cut();
    try {
      const error = await db.ping(1000).catch((e: unknown) => e);
      assert.ok(error instanceof UnavailableError, String(error));
      assert.equal(error.status, 503);
      assert.match(error.message, /Database unavailable|did not answer/);
    } finally {
      await proxy.listen();
    }
  });

  it("fails queries with UnavailableError while the server is unreachable", async () => {
    await proxy.cut();
    try {
      await assert.rejects(db.query("SELECT 1 AS ok"), UnavailableError);
      await assert.rejects(db.exec("INSERT INTO beats (n) VALUES (?)", [2]), UnavailableError);
      await assert.rejects(db.transaction((tx) => tx.exec("INSERT INTO beats (n) VALUES (?)", [3])), UnavailableError);
    } finally {
      await proxy.listen();
    }
  });

  it("fails a statement in flight when its connection is cut", async () => {
    // Settled at once so the rejection is never unhandled while the proxy is being cut.
    const slow = db.query("SELECT pg_sleep(5)").then(() => undefined, (error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await proxy.cut();
    try {
      const error = await slow;
      assert.ok(error instanceof UnavailableError, String(error));
    } finally {
      await proxy.listen();
    }
  });

  it("recovers by itself once the server is back: ping and queries succeed again", async () => {
    await proxy.cut();
    await assert.rejects(db.ping(1000), UnavailableError);
    await proxy.listen();
    await db.ping(2000);
    await db.exec("INSERT INTO beats (n) VALUES (?)", [4]);
    const rows = await db.query<{ n: number }>("SELECT n FROM beats ORDER BY n");
    assert.deepEqual(rows.map((row) => row.n), [1, 4]);
  });
});

describe("PostgreSQL start-up", () => {
  it("retries the first connection with backoff until a late server answers", async () => {
    const port = await freePort();
    const proxy = new TcpProxy(upstream, port);
    const late = new Promise<void>((resolve) => setTimeout(resolve, 400)).then(() => proxy.listen());
    try {
      const db = await openDatabase(databaseUrlAt(port), { postgres: { schema, connectRetries: 8, retryDelayMs: 25 } });
      await late;
      try {
        await db.ping(1000);
      } finally {
        await db.close();
      }
    } finally {
      await late.catch(() => {});
      await proxy.cut();
    }
  });

  it("gives up after its retries with an UnavailableError naming the server, without the password", async () => {
    const port = await freePort();
    const error = await openDatabase(databaseUrlAt(port, "s3cret"), { postgres: { connectRetries: 2, retryDelayMs: 5 } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof UnavailableError, String(error));
    assert.match(error.message, /Could not connect to PostgreSQL/);
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(error.message, /3 attempts/);
    assert.doesNotMatch(error.message, /s3cret/);
  });

  it("keeps the password out of the driver's url", async () => {
    const db = await openDatabase(databaseUrlAt(upstream.port, "s3cret"), { postgres: { schema } });
    try {
      assert.doesNotMatch(db.url, /s3cret/);
    } finally {
      await db.close();
    }
  });
});

describe("PostgreSQL statement timeout", () => {
  it("ends a statement that runs longer than statementTimeoutMs with a clear error", async () => {
    const db = await openDatabase(DATABASE_URL, { postgres: { schema, statementTimeoutMs: 100 } });
    try {
      const error = await db.query("SELECT pg_sleep(3)").catch((e: unknown) => e);
      assert.ok(error instanceof UnavailableError, String(error));
      assert.match(error.message, /timed out/);
      assert.equal((await db.query<{ ok: number }>("SELECT 1 AS ok"))[0]?.ok, 1);
    } finally {
      await db.close();
    }
  });

  it("lets statements run as long as they need with statementTimeoutMs 0", async () => {
    const db = await openDatabase(DATABASE_URL, { postgres: { schema, statementTimeoutMs: 0 } });
    try {
      const rows = await db.query<{ timeout: string }>("SHOW statement_timeout");
      assert.equal(rows[0]?.timeout ?? Object.values(rows[0] ?? {})[0], "0");
    } finally {
      await db.close();
    }
  });
});
