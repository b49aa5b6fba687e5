import assert from "node:assert/strict";
import type { Driver } from "../../../src/db/driver.ts";
import type { CrudPermissions } from "../../../src/http/crud/crud-router.ts";
import { artifactsModule } from "../../../src/modules/artifact/mod.ts";
import { configModule } from "../../../src/modules/config/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import type { TestStore } from "../../_support/stores.ts";
import { HIERARCHY, WeatherConfig } from "./_fixture.ts";

/** The origin test requests use. */
import { call, json } from "../../_support/http.ts";
export { BASE, call, json } from "../../_support/http.ts";

/** A service with configs and artifacts on a fresh store. */
export interface TestService {
  db: Driver;
  app: ServiceApp;
  close(): Promise<void>;
}

/** What {@link openService} installs. */
export interface ServiceOptions {
  /** Config ↔ artifact linking (default true). */
  linking?: boolean;
  /** Install the config module (default true). */
  config?: boolean;
  /** Permissions of the artifact routes. */
  artifactPermissions?: CrudPermissions;
}

/** Builds a service with the config and artifacts modules on a fresh store of `store`. */
export async function openService(store: TestStore, options: ServiceOptions = {}): Promise<TestService> {
  const db = await store.open();
  let builder = new ServiceBuilder({ info: { display_name: "Artifacts" } }).withDatabase(db);
  if (options.config !== false) builder = builder.module(configModule({ schema: WeatherConfig }));
  builder = builder.module(artifactsModule({
    hierarchy: HIERARCHY,
    enableConfigLinking: options.linking !== false,
    ...(options.artifactPermissions ? { permissions: options.artifactPermissions } : {}),
  }));
  const app = await builder.build();
  return {
    db,
    app,
    close: async () => {
      await app.chapkit.close();
      await db.close();
    },
  };
}


/** Asserts an RFC 9457 problem of `type` with `status` and returns its body. */
export async function problem(response: Response, status: number, type: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get("content-type") ?? "", /application\/problem\+json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.equal(body.type, `urn:chapkit:error:${type}`);
  return body;
}

/** The stored rows of a table, for "nothing changed" checks. */
export async function snapshot(db: Driver, table: string): Promise<unknown[]> {
  const rows = await db.query(`SELECT * FROM "${table}" ORDER BY "id"`);
  return rows.map((row) => JSON.parse(JSON.stringify(row)));
}
