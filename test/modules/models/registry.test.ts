import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConflictError, NotFoundError, ValidationError } from "../../../src/core/errors.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { migrate } from "../../../src/db/migrate.ts";
import { ModelRegistry, type RegistryEvent } from "../../../src/modules/models/registry.ts";
import { ModelRouter } from "../../../src/modules/models/router.ts";
import { MODELS_MIGRATIONS } from "../../../src/modules/models/store.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`model registry from code on ${store.name}`, () => {
    let db: Driver;
    let registry: ModelRegistry;
    const events: RegistryEvent[] = [];
    before(async () => {
      db = await store.open();
      await migrate(db, MODELS_MIGRATIONS);
      registry = new ModelRegistry(db);
      registry.onEvent((event) => events.push(event));
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    test("versions are assigned by minor bump, given versions are kept, and they order by semver", async () => {
      assert.equal((await registry.register("order", {})).version, "1.0.0");
      assert.equal((await registry.register("order", {})).version, "1.1.0");
      await registry.register("order", { version: "1.10.0" });
      await registry.register("order", { version: "1.9.0" });
      await registry.register("order", { version: "2.0.0-rc.1" });
      assert.deepEqual((await registry.versions("order")).map((v) => v.version), ["2.0.0-rc.1", "1.10.0", "1.9.0", "1.1.0", "1.0.0"]);
      assert.equal((await registry.register("order", {})).version, "2.1.0");
      const summary = await registry.model("order");
      assert.equal(summary.latest_version, "2.1.0");
      assert.equal(summary.version_count, 6);
    });

    test("a taken version is a conflict and a malformed one a validation error, and neither is stored", async () => {
      await registry.register("taken", { version: "1.0.0" });
      await assert.rejects(registry.register("taken", { version: "1.0.0" }), ConflictError);
      await assert.rejects(registry.register("taken", { version: "v1" }), ValidationError);
      await assert.rejects(registry.register("bad name!", {}), ValidationError);
      await assert.rejects(registry.register("taken", { metrics: { rmse: Number.NaN } }), ValidationError);
      assert.equal((await registry.versions("taken")).length, 1);
    });

    test("a version keeps metrics, params, tags, config, data hash and artifact", async () => {
      const version = await registry.register("kept", {
        description: "first",
        metrics: { rmse: 1.5 },
        params: { alpha: 0.1 },
        tags: ["baseline"],
        config: { lags: 3 },
        config_id: "01JCSEVERALCONFIGIDXXXXXXX",
        data_hash: "sha256:abc",
        artifact_id: "01JARTIFACTIDXXXXXXXXXXXXX",
      });
      const read = await registry.version("kept", version.version);
      assert.deepEqual(
        [read.description, read.metrics, read.params, read.tags, read.config, read.data_hash, read.artifact_id, read.status],
        ["first", { rmse: 1.5 }, { alpha: 0.1 }, ["baseline"], { lags: 3 }, "sha256:abc", "01JARTIFACTIDXXXXXXXXXXXXX", "active"],
      );
      assert.equal((await registry.versionOfArtifact("01JARTIFACTIDXXXXXXXXXXXXX"))?.version, "1.0.0");
    });

    test("compare puts metrics side by side and separates differing params from equal ones", async () => {
      await registry.register("cmp", { metrics: { rmse: 2, mae: 1 }, params: { alpha: 0.1, lags: 3 } });
      await registry.register("cmp", { metrics: { rmse: 1.5 }, params: { alpha: 0.2, lags: 3 } });
      const comparison = await registry.compare("cmp", ["1.0.0", "1.1.0"]);
      assert.deepEqual(comparison.metrics, { mae: { "1.0.0": 1, "1.1.0": null }, rmse: { "1.0.0": 2, "1.1.0": 1.5 } });
      assert.deepEqual(comparison.params_diff, { alpha: { "1.0.0": 0.1, "1.1.0": 0.2 } });
      assert.deepEqual(comparison.params_same, { lags: 3 });
      await assert.rejects(registry.compare("cmp", ["1.0.0"]), /at least two/);
      await assert.rejects(registry.compare("cmp", ["1.0.0", "9.9.9"]), NotFoundError);
    });

    test("an alias move is audited, rollback returns to the previous target, and references resolve", async () => {
      await registry.register("alias", {});
      await registry.register("alias", {});
      const first = await registry.moveAlias("alias", "production", "1.0.0", { actor: "ana", reason: "first release" });
      assert.deepEqual([first.from_version, first.to_version, first.action, first.actor], [null, "1.0.0", "move", "ana"]);
      await assert.rejects(registry.rollbackAlias("alias", "production"), ConflictError);
      await registry.moveAlias("alias", "production", "1.1.0", { actor: "ana" });
      assert.equal((await registry.resolve("alias@production")).version, "1.1.0");
      assert.equal((await registry.resolve("alias")).version, "1.1.0");
      const back = await registry.rollbackAlias("alias", "production", { actor: "bo" });
      assert.deepEqual([back.from_version, back.to_version, back.action, back.actor], ["1.1.0", "1.0.0", "rollback", "bo"]);
      assert.equal((await registry.resolve("alias@production")).version, "1.0.0");
      assert.equal((await registry.resolve("alias@1.1.0")).version, "1.1.0");
      assert.deepEqual((await registry.aliasHistory("alias", "production")).map((e) => e.to_version), ["1.0.0", "1.1.0", "1.0.0"]);
      assert.deepEqual((await registry.version("alias", "1.0.0")).aliases, ["production"]);
      await assert.rejects(registry.resolve("alias@staging"), NotFoundError);
      const promoted = events.filter((e) => e.type === "model.promoted" && e.name === "alias");
      assert.equal(promoted.length, 3);
    });

    test("an aliased version cannot be archived, a deprecated one is skipped by name alone", async () => {
      await registry.register("life", {});
      await registry.register("life", {});
      await registry.moveAlias("life", "staging", "1.1.0");
      await assert.rejects(registry.setStatus("life", "1.1.0", "archived"), ConflictError);
      await registry.setStatus("life", "1.1.0", "deprecated");
      assert.equal((await registry.resolve("life")).version, "1.0.0");
      await registry.deleteAlias("life", "staging");
      await registry.setStatus("life", "1.1.0", "archived");
      await assert.rejects(registry.moveAlias("life", "staging", "1.1.0"), ConflictError);
      assert.deepEqual((await registry.versions("life", { status: "archived" })).map((v) => v.version), ["1.1.0"]);
    });

    test("an A/B split is sticky by key and shares keys by weight", async () => {
      await registry.register("ab", {});
      await registry.register("ab", {});
      await registry.moveAlias("ab", "champion", "1.0.0");
      await registry.moveAlias("ab", "challenger", "1.1.0");
      const router = new ModelRouter(db, registry);
      await router.setPolicy("ab", { split: [{ target: "champion", weight: 80 }, { target: "challenger", weight: 20 }] });
      let champion = 0;
      for (let i = 0; i < 400; i++) {
        const first = await router.route("ab", `user-${i}`);
        const again = await router.route("ab", `user-${i}`);
        assert.equal(first.version.version, again.version.version);
        if (first.version.version === "1.0.0") champion += 1;
      }
      assert.ok(champion > 290 && champion < 350, `champion got ${champion} of 400 keys`);
      assert.equal((await router.route("ab@challenger")).version.version, "1.1.0");
      await assert.rejects(router.setPolicy("ab", { split: [{ target: "nobody", weight: 1 }] }), NotFoundError);
      await assert.rejects(router.setPolicy("ab", { split: [{ target: "champion", weight: -1 }] }), ValidationError);
    });

    test("a canary ramps while within bounds, then rolls back when its error rate breaks the bound", async () => {
      await registry.register("canary", {});
      await registry.register("canary", {});
      await registry.moveAlias("canary", "production", "1.0.0");
      let now = Date.parse("2026-01-01T00:00:00Z");
      const router = new ModelRouter(db, registry, { now: () => new Date(now), cacheTtlMs: 0 });
      await router.setPolicy("canary", {
        target: "production",
        canary: { target: "1.1.0", steps: [10, 50, 100], step_seconds: 60, max_error_rate: 0.2, max_latency_ms: 1000, min_requests: 5, promote_alias: "production" },
      });
      const serve = async (n: number, ok: boolean): Promise<void> => {
        for (let i = 0; i < n; i++) await router.record({ name: "canary", version: "1.1.0", arm: "canary", ok, latencyMs: 10 });
      };
      await serve(5, true);
      assert.equal((await router.evaluate("canary")).length, 0, "a step lasts step_seconds");
      now += 61_000;
      await router.evaluate("canary");
      assert.equal((await router.policy("canary"))?.canary_state?.percentage, 50);
      now += 1000;
      await serve(4, true);
      await serve(2, false);
      await router.evaluate("canary");
      const state = (await router.policy("canary"))?.canary_state;
      assert.equal(state?.status, "rolled_back");
      assert.equal(state?.percentage, 0);
      assert.match(state?.reason ?? "", /error rate/);
      for (let i = 0; i < 50; i++) assert.equal((await router.route("canary", `k${i}`)).version.version, "1.0.0");
      assert.equal((await registry.resolve("canary@production")).version, "1.0.0");
    });

    test("a canary that completes moves its promote alias, audited as the canary's doing", async () => {
      await registry.register("ramp", {});
      await registry.register("ramp", {});
      await registry.moveAlias("ramp", "production", "1.0.0");
      let now = Date.parse("2026-01-01T00:00:00Z");
      const router = new ModelRouter(db, registry, { now: () => new Date(now), cacheTtlMs: 0 });
      await router.setPolicy("ramp", {
        canary: { target: "1.1.0", steps: [50], step_seconds: 10, max_error_rate: 0.1, max_latency_ms: 100, min_requests: 1, promote_alias: "production" },
      });
      await router.record({ name: "ramp", version: "1.1.0", arm: "canary", ok: true, latencyMs: 5 });
      now += 11_000;
      await router.evaluate();
      assert.equal((await router.policy("ramp"))?.canary_state?.status, "completed");
      assert.equal((await registry.resolve("ramp@production")).version, "1.1.0");
      assert.equal((await registry.aliasHistory("ramp", "production"))[0]?.actor, "canary");
    });
  });
}
