/**
 * The typed client: `treaty<TypedService>` (Eden) is typed from
 * `examples/typed_client.ts` alone, and its calls to config, artifact, job
 * and custom-entity routes run against that example as a real process. The
 * `@ts-expect-error` lines are checked by `deno check` and by tsc
 * (typed-client-types.bun.test.ts): a wrong path, body or field fails to compile.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { treaty } from "@elysiajs/eden";
import type { TypedService } from "../../examples/typed_client.ts";
import { startExample } from "../_support/example-process.ts";

const UNKNOWN = "01K79YAHJ7BR4E87VVTG8FNBMA";

describe("a typed Eden client of a running example", () => {
  let child: ChildProcess;
  let client: ReturnType<typeof treaty<TypedService>>;

  before(async () => {
    const started = await startExample("typed_client.ts");
    child = started.child;
    client = treaty<TypedService>(started.url);
  });
  after(() => {
    child.kill("SIGTERM");
  });

  it("creates, reads and lists a custom entity with typed bodies and answers", async () => {
    const created = await client.api.v1.notes.post({ title: "from the client", stars: 4, tags: ["a"] });
    assert.equal(created.status, 201);
    const stars: number | undefined = created.data?.stars;
    assert.equal(stars, 4);
    const id = created.data!.id;
    const fetched = await client.api.v1.notes({ entity_id: id }).get();
    assert.equal(fetched.data?.title, "from the client");
    const listed = await client.api.v1.notes.get({ query: { sort: "-title", "stars[gte]": 1 } });
    assert.ok(Array.isArray(listed.data));
    const patched = await client.api.v1.notes({ entity_id: id }).patch({ stars: 5 });
    assert.equal(patched.data?.stars, 5);
    const removed = await client.api.v1.notes({ entity_id: id }).delete();
    assert.equal(removed.status, 204);
  });

  it("types a problem answer of a custom entity route", async () => {
    const missing = await client.api.v1.notes({ entity_id: UNKNOWN }).get();
    assert.equal(missing.status, 404);
    const type: unknown = missing.error?.value.type;
    assert.equal(type, "urn:chapkit:error:not-found");
    const invalid = await client.api.v1.notes.post({ title: "", stars: 1 });
    assert.equal(invalid.status, 422);
  });

  it("creates and reads a config whose data is typed by its schema", async () => {
    const created = await client.api.v1.config.post({ name: "south", data: { min_samples: 3, region: "south" } });
    assert.equal(created.status, 201);
    const region: string | undefined = created.data?.data.region;
    assert.equal(region, "south");
    const fetched = await client.api.v1.config({ entity_id: created.data!.id }).get();
    assert.equal(fetched.data?.data.min_samples, 3);
  });

  it("creates an artifact and reads its tree", async () => {
    const created = await client.api.v1.artifacts.post({ data: { weights: [1, 2] } });
    assert.equal(created.status, 201);
    const tree = await client.api.v1.artifacts({ entity_id: created.data!.id }).$tree.get();
    assert.equal(tree.data?.level, 0);
    assert.equal(tree.data?.level_label, "model");
  });

  it("lists jobs and answers an unknown job with a typed problem", async () => {
    const jobs = await client.api.v1.jobs.get({ query: { status_filter: "completed" } });
    assert.deepEqual(jobs.data, []);
    const missing = await client.api.v1.jobs({ job_id: UNKNOWN }).get();
    assert.equal(missing.status, 404);
    const cancel = await client.api.v1.jobs({ job_id: UNKNOWN }).$cancel.post();
    assert.equal(cancel.status, 404);
  });

  it("reads info and health", async () => {
    const info = await client.api.v1.info.get();
    assert.equal(info.data?.display_name, "Typed service");
    const health = await client.api.v1.health.get();
    assert.equal(health.data?.status, "healthy");
  });
});

/** Calls that must not compile; never run. */
export function rejectedAtCompileTime(client: ReturnType<typeof treaty<TypedService>>): void {
  // @ts-expect-error a note's stars are a number
  void client.api.v1.notes.post({ title: "x", stars: "many" });
  // @ts-expect-error a note needs a title
  void client.api.v1.notes.post({ stars: 1 });
  // @ts-expect-error no such entity route
  void client.api.v1.memos.get();
  // @ts-expect-error config data must match the schema
  void client.api.v1.config.post({ name: "n", data: { min_samples: "3", region: "r" } });
  // @ts-expect-error a job record has no title
  void client.api.v1.jobs.get().then((answer) => answer.data?.[0]?.title);
  // @ts-expect-error an unknown note field
  void client.api.v1.notes.get().then((answer) => Array.isArray(answer.data) && answer.data[0]?.colour);
}
