// negotiation: a large list answered as MessagePack against the same list as JSON.
// A 1,000-item cursor page (`GET /api/v1/bench_items?limit=1000&count=false`,
// 200 with --quick) of a served entity, through the built service's edge
// (in-process `app.handle`), the body read and decoded by the client as it
// would be: `response.json()` for JSON, msgpackr `unpack` for MessagePack.
// Figures: milliseconds per request and bytes on the wire, JSON the baseline.
import { Type } from "@sinclair/typebox";
import { unpack } from "msgpackr";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { compare, round, type BenchRow, type Suite, type SuiteContext } from "../lib/types.ts";

const Item = defineEntity({
  table: "bench_items",
  name: "BenchItem",
  fields: {
    name: Type.String(),
    score: Type.Number(),
    count: Type.Integer(),
    tags: Type.Array(Type.String()),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
});

async function timePerRequest(run: () => Promise<unknown>, rounds: number): Promise<number> {
  for (let i = 0; i < 5; i++) await run();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await run();
  return (performance.now() - start) / rounds;
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const size = context.quick ? 200 : 1000;
  const rounds = context.quick ? 40 : 150;
  const app = await new ServiceBuilder({ info: { display_name: "bench" }, databaseUrl: "sqlite::memory:", settings: { log: { level: "error" } } })
    .withEntity(Item)
    .build();
  try {
    const manager = app.chapkit.manager(Item);
    for (let i = 0; i < size; i++) {
      await manager.save({ name: `item ${i}`, score: i * 1.25, count: i, tags: ["a", "b", `t${i % 7}`], data: { region: "north", n: i, ok: i % 2 === 0 } });
    }
    const url = `http://localhost/api/v1/bench_items?limit=${size}&count=false`;
    let jsonBytes = 0;
    let packBytes = 0;
    const json = await timePerRequest(async () => {
      const response = await app.handle(new Request(url));
      const text = await response.text();
      jsonBytes = new TextEncoder().encode(text).byteLength;
      return JSON.parse(text);
    }, rounds);
    const msgpack = await timePerRequest(async () => {
      const response = await app.handle(new Request(url, { headers: { accept: "application/msgpack" } }));
      const bytes = new Uint8Array(await response.arrayBuffer());
      packBytes = bytes.byteLength;
      return unpack(bytes);
    }, rounds);
    context.log(`list of ${size}: JSON ${round(json)} ms, ${jsonBytes} B; MessagePack ${round(msgpack)} ms, ${packBytes} B`);
    const base = { suite: "negotiation", store: "bun:sqlite" };
    return [
      { ...compare({ ...base, case: `GET list of ${size} as MessagePack (vs JSON)`, metric: "latency", unit: "ms/req" }, msgpack, json, false) },
      { ...compare({ ...base, case: `GET list of ${size} as MessagePack (vs JSON)`, metric: "size", unit: "bytes" }, packBytes, jsonBytes, false) },
    ];
  } finally {
    await app.chapkit.close();
  }
}

/** MessagePack against JSON for a large list. */
export const suite: Suite = { name: "negotiation", description: "a large list as MessagePack vs JSON", run };
