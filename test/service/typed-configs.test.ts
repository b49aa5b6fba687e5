/** `app.chapkit.configs(schema)`: direct calls on a service's configs, typed by its config schema. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

const WeatherConfig = Type.Object({ min_samples: Type.Integer({ default: 5 }), model: Type.String({ default: "linear" }) }, { title: "WeatherConfig" });

describe("typed configs of a service", () => {
  let app: ServiceApp;
  before(async () => {
    app = await new ServiceBuilder({ info: { display_name: "Weather" }, logging: false }).withConfig(WeatherConfig).build();
  });
  after(() => app.chapkit.close());

  it("creates and reads configs through the service's manager, data typed by the schema and defaults filled", async () => {
    const configs = app.chapkit.configs(WeatherConfig);
    const created = await configs.create({ name: "baseline", data: { min_samples: 3 } });
    const samples: number = created.data.min_samples;
    assert.equal(samples, 3);
    const found = await configs.findByName("baseline");
    const model: string | undefined = found?.data.model;
    assert.equal(model, "linear");
    // @ts-expect-error the schema has no such field
    assert.equal(found?.data.window, undefined);
  });

  it("shares the routes' store: a config created directly is served over HTTP", async () => {
    const created = await app.chapkit.configs(WeatherConfig).create({ name: "shared", data: {} });
    const response = await app.handle(new Request(`http://localhost/api/v1/config/${created.id}`));
    assert.equal(response.status, 200);
    assert.deepEqual((await response.json()).data, { min_samples: 5, model: "linear" });
  });

  it("throws when the service has no configs", async () => {
    const bare = await new ServiceBuilder({ info: { display_name: "Bare" }, logging: false }).build();
    try {
      assert.throws(() => bare.chapkit.configs(WeatherConfig));
    } finally {
      await bare.chapkit.close();
    }
  });
});
