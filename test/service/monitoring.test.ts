import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import type { AuthManager } from "../../src/modules/auth/manager.ts";
import { AUTH_KEY } from "../../src/modules/auth/mod.ts";
import { call, json } from "../_support/http.ts";
import { promtoolCheck } from "../_support/promtool.ts";
import { postgresStore, sqliteFileStore, type TestStore } from "../_support/stores.ts";

const schema = Type.Object({ threshold: Type.Optional(Type.Number()) }, { additionalProperties: true });
const info = { display_name: "Monitored" };

/** Lets the after-response hooks (run on a later turn) record the last requests. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

async function scrape(app: ServiceApp, headers: Record<string, string> = {}): Promise<string> {
  await settle();
  const response = await call(app, "GET", "/metrics", undefined, headers);
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return text;
}

/** The value of one sample line, e.g. `value(text, 'chapkit_errors_total{type="not-found"}')`. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const makeStore of [sqliteFileStore, postgresStore]) {
  const store: TestStore = makeStore();
  describe(`monitoring on ${store.name}`, () => {
    let app: ServiceApp;
    let text = "";
    let configId = "";

    before(async () => {
      await store.open().then((db) => db.close());
      app = await new ServiceBuilder({ info, databaseUrl: store.url() })
        .withHealth()
        .withConfig(schema)
        .withMonitoring({ metricsToken: "", resourceSampleEvery: 1 })
        .build();
      const created = await json<{ id: string }>(await call(app, "POST", "/api/v1/config", { name: "a", data: {} }), 201);
      configId = created.id;
      for (let i = 0; i < 3; i++) await json(await call(app, "GET", `/api/v1/config/${configId}`), 200);
      await call(app, "GET", "/api/v1/config/01ARZ3NDEKTSV4RRFFQ69G5FAV");
      for (const path of ["/nope", "/nope/1", "/wp-admin/install.php", `/x/${configId}`]) await call(app, "GET", path);
      await call(app, "DELETE", "/api/v1/health");
      text = await scrape(app);
    });

    after(async () => {
      await app?.chapkit.close();
      await store.cleanup();
    });

    it("answers the Prometheus text format that promtool accepts without a warning", async () => {
      const response = await call(app, "GET", "/metrics");
      assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      const result = promtoolCheck(text);
      assert.equal(result.status, 0, result.output);
      assert.equal(result.output, "");
    });

    it("labels requests by route template, never by the raw path", () => {
      const series = `http_server_request_duration_seconds_count{method="GET",route="/api/v1/config/:entity_id",status_code="200"}`;
      assert.equal(value(text, series), 3);
      assert.equal(
        value(text, `http_server_request_duration_seconds_count{method="POST",route="/api/v1/config",status_code="201"}`),
        1,
      );
      assert.ok(!text.includes(configId), "a raw id leaked into a label");
      assert.ok(!text.includes("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
    });

    it("collapses unknown paths into one unmatched series", () => {
      assert.equal(value(text, `http_server_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}`), 4);
      assert.ok(!text.includes("wp-admin"));
    });

    it("counts problems by type", () => {
      assert.equal(value(text, `chapkit_errors_total{type="not-found"}`), 5);
      assert.equal(value(text, `chapkit_errors_total{type="method-not-allowed"}`), 1);
    });

    it("times store statements by store and operation", () => {
      const kind = store.kind;
      assert.ok((value(text, `chapkit_db_query_duration_seconds_count{store="${kind}",operation="select"}`) ?? 0) >= 4);
      assert.ok((value(text, `chapkit_db_query_duration_seconds_count{store="${kind}",operation="insert"}`) ?? 0) >= 1);
    });

    it("counts requests in flight, the scrape itself included", async () => {
      const again = await scrape(app);
      assert.equal(value(again, `http_server_active_requests{method="GET"}`), 1);
      assert.equal(value(again, `http_server_active_requests{method="POST"}`), 0);
    });

    it("samples process CPU and heap growth per route template", () => {
      const route = `route="/api/v1/config/:entity_id"`;
      assert.equal(value(text, `chapkit_http_sampled_requests_total{${route}}`), 4);
      assert.ok((value(text, `chapkit_http_sampled_cpu_seconds_total{${route}}`) ?? -1) >= 0);
      assert.ok((value(text, `chapkit_http_sampled_heap_growth_bytes_total{${route}}`) ?? -1) >= 0);
    });

    it("reports process metrics and the runtime", () => {
      assert.ok((value(text, "process_resident_memory_bytes") ?? 0) > 0);
      assert.ok((value(text, "process_cpu_seconds_total") ?? 0) > 0);
      assert.match(text, /chapkit_runtime_info\{runtime="(bun|deno)",version="[^"]+"\} 1/);
    });

    it("answers OpenMetrics when Accept asks for it", async () => {
      const response = await call(app, "GET", "/metrics", undefined, {
        accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
      });
      assert.equal(response.headers.get("content-type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
      const body = await response.text();
      assert.ok(body.endsWith("# EOF\n"));
      assert.match(body, /# TYPE chapkit_errors counter\n/);
      assert.match(body, /le="1\.0"/);
    });

    if (store.kind === "postgres") {
      it("reports the PostgreSQL pool by state", () => {
        assert.equal(value(text, `chapkit_db_pool_connections{state="max"}`), 10);
        assert.equal(value(text, `chapkit_db_pool_connections{state="waiting"}`), 0);
        const active = value(text, `chapkit_db_pool_connections{state="active"}`) ?? -1;
        const idle = value(text, `chapkit_db_pool_connections{state="idle"}`) ?? -1;
        assert.equal(active + idle, 10);
      });
    } else {
      it("has no pool series on SQLite", () => {
        assert.ok(!text.includes("chapkit_db_pool_connections{"));
      });
    }
  });
}

describe("monitoring off", () => {
  it("serves no /metrics route and records nothing", async () => {
    const app = await new ServiceBuilder({ info }).withHealth().build();
    try {
      assert.equal((await call(app, "GET", "/metrics")).status, 404);
      assert.equal(app.chapkit.context.monitoring, undefined);
    } finally {
      await app.chapkit.close();
    }
  });
});

describe("metrics access", () => {
  it("requires the scrape token when one is set and auth is off", async () => {
    const app = await new ServiceBuilder({ info }).withMonitoring({ metricsToken: "scrape-secret-1" }).build();
    try {
      const refused = await call(app, "GET", "/metrics");
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).type, "urn:chapkit:error:unauthorized");
      assert.equal((await call(app, "GET", "/metrics", undefined, { authorization: "Bearer wrong-secret-1" })).status, 401);
      assert.equal((await call(app, "GET", "/metrics", undefined, { authorization: "Bearer scrape-secret-1" })).status, 200);
    } finally {
      await app.chapkit.close();
    }
  });

  it("under auth admits metrics:read holders and the scrape token, on /metrics only", async () => {
    const app = await new ServiceBuilder({ info })
      .withConfig(schema)
      .withAuth({ staticKeys: ["static-admin-key-0123456789"] })
      .withMonitoring({ metricsToken: "scrape-secret-2" })
      .build();
    try {
      const auth = app.chapkit.context.get<AuthManager>(AUTH_KEY);
      const viewer = await auth.keys.issue({ name: "viewer", role: "viewer" });
      const narrow = await auth.keys.issue({ name: "narrow", role: "viewer", scopes: ["config:read"] });
      assert.equal((await call(app, "GET", "/metrics")).status, 401);
      assert.equal((await call(app, "GET", "/metrics", undefined, { authorization: "Bearer scrape-secret-2" })).status, 200);
      assert.equal((await call(app, "GET", "/metrics", undefined, { "x-api-key": viewer.key })).status, 200);
      const denied = await call(app, "GET", "/metrics", undefined, { "x-api-key": narrow.key });
      assert.equal(denied.status, 403);
      assert.match((await denied.json()).detail, /metrics:read/);
      // The scrape token opens nothing else.
      assert.equal((await call(app, "GET", "/api/v1/config", undefined, { authorization: "Bearer scrape-secret-2" })).status, 401);
    } finally {
      await app.chapkit.close();
    }
  });
});
