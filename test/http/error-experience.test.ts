/**
 * The error experience: problems suggest the nearest valid name for a
 * mistyped query field or body key, validation lists every error of a body
 * at once, and problems say whether retrying can help.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { ConflictError, NotFoundError, RateLimitedError, RequestTimeoutError, UnavailableError } from "../../src/core/errors.ts";
import { didYouMean, editDistance, nearestName } from "../../src/core/suggest.ts";
import type { Driver } from "../../src/db/driver.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { call, json } from "../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";

const Sample = defineEntity({
  table: "samples",
  name: "Sample",
  fields: { region: Type.String(), min_samples: Type.Integer(), rate: Type.Number() },
});

describe("nearest names", () => {
  it("measures edits, swaps of neighbours included", () => {
    assert.equal(editDistance("created_at", "created_at"), 0);
    assert.equal(editDistance("creatd_at", "created_at"), 1);
    assert.equal(editDistance("cretaed_at", "created_at"), 1);
    assert.equal(editDistance("abc", ""), 3);
  });

  it("suggests a close name and stays silent for a far one", () => {
    assert.equal(nearestName("creatd_at", ["id", "created_at", "updated_at"]), "created_at");
    assert.equal(nearestName("minSamples", ["min_samples", "rate"]), "min_samples");
    assert.equal(nearestName("colour", ["id", "created_at", "updated_at"]), undefined);
    assert.equal(didYouMean("rat", ["rate"]), "; did you mean `rate`?");
    assert.equal(didYouMean("zzzzzz", ["rate"]), "");
  });
});

describe("retryable problems", () => {
  it("marks the statuses where the same request may succeed later, and only those", () => {
    assert.equal(new UnavailableError("db down").toProblem().retryable, true);
    assert.equal(new RateLimitedError(2).toProblem().retryable, true);
    assert.equal(new RequestTimeoutError(100).toProblem().retryable, true);
    assert.equal("retryable" in new NotFoundError("gone").toProblem(), false);
    assert.equal("retryable" in new ConflictError("taken").toProblem(), false);
    assert.equal(new ConflictError("serialization", { retryable: true }).toProblem().retryable, true);
    assert.equal(new RateLimitedError(2).headers["Retry-After"], "2");
  });
});

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`problems that help on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;

    before(async () => {
      db = await store.open();
      app = await new ServiceBuilder({ info: { display_name: "Samples" } }).withSettings({ env: {} })
        .withDatabase(db).withEntity(Sample).build();
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    it("suggests the nearest field for a mistyped sort or filter field", async () => {
      const sort = await json(await call(app, "GET", "/api/v1/samples?sort=creatd_at"), 400);
      assert.equal(sort.type, "urn:chapkit:error:invalid-query");
      assert.match(String(sort.detail), /did you mean `created_at`\?/);
      assert.equal(sort.suggestion, "created_at");

      const filter = await json(await call(app, "GET", `/api/v1/samples?filter=${encodeURIComponent("min_sample > 3")}`), 400);
      assert.match(String(filter.detail), /did you mean `min_samples`\?/);
      assert.equal(filter.suggestion, "min_samples");

      const far = await json(await call(app, "GET", "/api/v1/samples?sort=colour"), 400);
      assert.equal(far.suggestion, undefined);
      assert.doesNotMatch(String(far.detail), /did you mean/);
    });

    it("lists every error of a body at once and points at a misspelt key; nothing is stored", async () => {
      const problem = await json(await call(app, "POST", "/api/v1/samples", { regoin: "north", min_sample: 3, rate: "fast" }), 422);
      assert.equal(problem.type, "urn:chapkit:error:validation-failed");
      const errors = problem.errors as { loc: (string | number)[]; msg: string; type: string }[];
      const byField = new Map(errors.map((error) => [String(error.loc.at(-1)), error]));
      assert.deepEqual([...byField.keys()].sort(), ["min_samples", "rate", "region"]);
      assert.match(byField.get("region")!.msg, /the body has `regoin`: did you mean `region`\?/);
      assert.match(byField.get("min_samples")!.msg, /did you mean `min_samples`\?/);
      assert.equal(byField.get("rate")!.type, "float_type");
      assert.equal(problem.retryable, undefined);
      const list = await json(await call(app, "GET", "/api/v1/samples"), 200);
      assert.deepEqual(list, []);
    });
  });
}
