/** withGraphql() on a service without any entity table is refused at start-up, naming the fix. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigurationError } from "../../../src/core/errors.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";

describe("withGraphql() without entities", () => {
  it("fails build() with a configuration error instead of answering 500 later", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "empty" } }).withSettings({ env: {} }).withDatabase("sqlite::memory:").withGraphql().build(),
      (error: unknown) => error instanceof ConfigurationError && /withEntity/.test(error.message),
    );
  });
});
