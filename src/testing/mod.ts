/**
 * Testing utilities for chapkit services (`chapkit/testing`,
 * `@chapkit/core/testing`): an in-process client bound to a built service (no
 * port), input factories, temporary SQLite and PostgreSQL stores per test, a
 * manual clock, job waiting, step-by-step job runs and a small load helper.
 *
 * @example
 * ```ts ignore
 * import { temporarySqlite, testClient } from "chapkit/testing";
 *
 * await using store = await temporarySqlite();
 * await using client = await testClient(createService(store.url));
 * const created = await client.post("/api/v1/config", { name: "a", data: {} });
 * assert.equal(created.status, 201);
 * ```
 *
 * @module
 */
export { TestClient, testClient } from "./client.ts";
export type { TestJob, TestRequestOptions, TestResponse } from "./client.ts";
export { temporaryPostgres, temporarySqlite } from "./stores.ts";
export type { TemporaryStore } from "./stores.ts";
export { factory } from "./factory.ts";
export type { Factory } from "./factory.ts";
export { ManualClock } from "./clock.ts";
export { load } from "./load.ts";
export { stepJobs } from "./jobs.ts";
export type { JobStepper } from "./jobs.ts";
export type { LoadOptions, LoadReport } from "./load.ts";
