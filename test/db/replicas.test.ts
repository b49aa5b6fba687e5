/**
 * Read replicas against a real streaming replica: a private primary and a
 * `pg_basebackup` of it started as a hot standby. Reads of a read scope go to
 * the replica, writes and background work to the primary; a scope or client
 * that wrote reads the primary (read-your-writes, shown with the replica's
 * replay paused); a replica that is stopped or lags gets no reads and the
 * reads still succeed. No skip: a machine that cannot start the pair fails.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import postgres from "postgres";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { openDatabase } from "../../src/db/open.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { call, json } from "../_support/http.ts";
import { replicated, type ReplicatedDriver } from "../../src/db/replicas.ts";
import { type PrivatePostgres, startPrivatePostgres, startPrivateReplica } from "../_support/private-postgres.ts";

const slow = { timeout: 120_000 };
const ids = (rows: Record<string, unknown>[]): unknown[] => rows.map((row) => row.id);

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("read replicas on a real streaming replica", () => {
  let primary: PrivatePostgres;
  let replica: PrivatePostgres;
  let db: ReplicatedDriver;
  let standby: postgres.Sql;

  /** Whether the server that answers this read is the standby. */
  const answeredBy = async (client?: string): Promise<"replica" | "primary"> => {
    const read = () => db.query<{ standby: boolean }>("SELECT pg_is_in_recovery() AS standby");
    const [row] = client === undefined ? await read() : await db.readScope(client, read);
    return row?.standby ? "replica" : "primary";
  };
  const replicated_ = (id: string) => async () => (await standby`SELECT 1 FROM notes WHERE id = ${id}`).length === 1;

  // Started once, by the first test (hooks have a short timeout on Bun).
  let starting: Promise<void> | undefined;
  const pair = (): Promise<void> =>
    starting ??= (async () => {
      primary = await startPrivatePostgres();
      replica = await startPrivateReplica(primary);
      standby = postgres(replica.url, { max: 1, onnotice: () => {} });
      db = await replicated(await openDatabase(primary.url, { postgres: { max: 4 } }), [replica.url], {
        open: (url) => openDatabase(url, { postgres: { max: 2, connectRetries: 0, connectTimeoutSeconds: 2, breaker: false } }),
        healthIntervalMs: 100,
        stickyMs: 400,
        maxLagMs: 0,
      });
      await db.exec("CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)");
      await until("the table on the replica", async () => (await standby`SELECT to_regclass('notes') AS t`)[0]?.t !== null);
    })();
  /** Runs `fn` with the replica's replay paused. */
  const paused = async (fn: () => Promise<void>): Promise<void> => {
    await standby`SELECT pg_wal_replay_pause()`;
    try {
      await fn();
    } finally {
      await standby`SELECT pg_wal_replay_resume()`;
    }
  };

  after(async () => {
    await standby?.end({ timeout: 1 });
    await db?.close();
    await replica?.destroy();
    await primary?.destroy();
  });

  it("answers reads of a read scope from the replica and reads outside one from the primary", slow, async () => {
    await pair();
    assert.equal(await answeredBy("a"), "replica");
    assert.equal(await answeredBy(), "primary");
    assert.deepEqual(db.replicaStatus().map((r) => r.healthy), [true]);
  });

  it("sends writes, transactions and row-locking reads to the primary", slow, async () => {
    await pair();
    await db.readScope("w", async () => {
      const [locked] = await db.query<{ standby: boolean }>("SELECT pg_is_in_recovery() AS standby FROM notes FOR UPDATE");
      assert.equal(locked, undefined); // ran on the primary: a standby refuses FOR UPDATE
      const inTx = await db.transaction(() => db.query<{ standby: boolean }>("SELECT pg_is_in_recovery() AS standby"));
      assert.equal(inTx[0]?.standby, false);
    });
  });

  describe("read-your-writes, with the replica's replay paused", () => {
    it("reads a scope's own write from the primary once the scope has written", slow, async () => {
      await pair();
      await paused(() =>
        db.readScope("writer", async () => {
          assert.deepEqual(ids(await db.query("SELECT id FROM notes WHERE id = 'n1'")), []);
          await db.exec("INSERT INTO notes (id, body) VALUES ('n1', 'first')");
          assert.deepEqual(ids(await db.query("SELECT id FROM notes WHERE id = 'n1'")), ["n1"]);
          assert.equal(await replicated_("n1")(), false, "the replica replayed although paused");
        })
      );
    });

    it("keeps a client that wrote on the primary for the sticky window, while other clients read the replica", slow, async () => {
      await pair();
      await paused(async () => {
        await db.readScope("alice", () => db.exec("INSERT INTO notes (id, body) VALUES ('n2', 'second')"));
        const read = async (client: string) => ids(await db.readScope(client, () => db.query("SELECT id FROM notes WHERE id = 'n2'")));
        assert.deepEqual(await read("alice"), ["n2"]);
        assert.deepEqual(await read("bob"), [], "bob read the primary");
        await new Promise((resolve) => setTimeout(resolve, 450));
        assert.deepEqual(await read("alice"), [], "alice still reads the primary after the window");
      });
    });
  });

  it("reads the primary while the replica lags more than maxLagMs", slow, async () => {
    await pair();
    const lagging = await replicated(await openDatabase(primary.url, { postgres: { max: 2 } }), [replica.url], {
      open: (url) => openDatabase(url, { postgres: { max: 1, connectRetries: 0 } }),
      healthIntervalMs: 100,
      maxLagMs: 300,
    });
    try {
      assert.equal((await lagging.readScope("c", () => lagging.query<{ s: boolean }>("SELECT pg_is_in_recovery() AS s")))[0]?.s, true);
      await standby`SELECT pg_wal_replay_pause()`;
      await lagging.exec("INSERT INTO notes (id, body) VALUES ('n3', 'third')");
      await until("the lag to be seen", async () => !lagging.replicaStatus()[0]!.healthy);
      assert.match(lagging.replicaStatus()[0]!.reason ?? "", /lags \d+ ms/);
      assert.equal((await lagging.readScope("c", () => lagging.query<{ s: boolean }>("SELECT pg_is_in_recovery() AS s")))[0]?.s, false);
    } finally {
      await standby`SELECT pg_wal_replay_resume()`;
      await lagging.close();
    }
  });

  it("fails reads over to the primary while the replica is down, and back once it is up", slow, async () => {
    await pair();
    await db.exec("INSERT INTO notes (id, body) VALUES ('n4', 'fourth')");
    await until("n4 on the replica", replicated_("n4"));
    await standby.end({ timeout: 1 });
    await replica.stop();
    // The first read after the stop meets the dead connection and is answered by the primary.
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(ids(await db.readScope("r", () => db.query("SELECT id FROM notes WHERE id = 'n4'"))), ["n4"]);
    }
    assert.equal(await answeredBy("r"), "primary");
    await until("the replica marked down", async () => db.replicaStatus()[0]!.healthy === false);
    await replica.start();
    standby = postgres(replica.url, { max: 1, onnotice: () => {} });
    await until("reads back on the replica", async () => (await answeredBy("r")) === "replica");
  });

  it("serves a service's requests from the replica, with read-your-writes per client (DATABASE_REPLICA_URLS)", slow, async () => {
    await pair();
    const Memo = defineEntity({ table: "memos", fields: { text: Type.String() } });
    const app = await new ServiceBuilder({ info: { display_name: "replicas" } })
      .withSettings({ env: { DATABASE_URL: primary.url, DATABASE_REPLICA_URLS: replica.url, CHAPKIT_DATABASE_REPLICA_CHECK_MS: "100" } })
      .withHealth()
      .withEntity(Memo)
      .build();
    try {
      await until("the memos table on the replica", async () => (await standby`SELECT to_regclass('memos') AS t`)[0]?.t !== null);
      const health = await json<{ checks: Record<string, { state: string }> }>(await call(app, "GET", "/api/v1/health"), 200);
      assert.equal(health.checks.database_replicas?.state, "healthy");
      await paused(async () => {
        const alice = { authorization: "Bearer alice" };
        const memo = await json<{ id: string }>(await call(app, "POST", "/api/v1/memos", { text: "hello" }, alice), 201);
        await json(await call(app, "GET", `/api/v1/memos/${memo.id}`, undefined, alice), 200);
        const bob = await call(app, "GET", `/api/v1/memos/${memo.id}`, undefined, { authorization: "Bearer bob" });
        assert.equal(bob.status, 404, "bob's read was answered by the primary");
      });
    } finally {
      await app.chapkit.close();
    }
  });
});

describe("read replica settings", () => {
  it("refuses replicas of a SQLite store at start-up, naming the setting", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "replicas" } })
        .withSettings({ env: { DATABASE_URL: "sqlite::memory:", DATABASE_REPLICA_URLS: "postgres://127.0.0.1:1/x" } })
        .build(),
      (error: Error) => error.name === "ConfigurationError" && /DATABASE_REPLICA_URLS.*PostgreSQL primary/.test(error.message),
    );
  });
});
