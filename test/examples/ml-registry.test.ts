import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { startRegistryService } from "../../examples/ml_registry.ts";
import type { RunningService } from "../../src/service/listen.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";

async function infer(service: RunningService, user: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${service.url}/v2/models/disease/infer`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-user": user },
    body: JSON.stringify({ inputs: [{ name: "features", shape: [2, 2], datatype: "FP32", data: [[110, 26], [90, 28]] }] }),
  });
  assert.equal(response.status, 200);
  return await response.json() as Record<string, unknown>;
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`examples/ml_registry.ts on ${store.name}`, () => {
    after(() => store.cleanup());

    test("trains two versions, aliases them champion and challenger, routes 80/20 sticky by user over KServe V2", { timeout: 90_000 }, async () => {
      await (await store.open()).close();
      const service = await startRegistryService({ port: 0, databaseUrl: store.url() });
      try {
        const aliases = await (await fetch(`${service.url}/api/v1/models/disease/aliases`)).json();
        assert.deepEqual(aliases, { champion: "1.0.0", challenger: "1.1.0" });
        const counts: Record<string, number> = {};
        for (let i = 0; i < 40; i++) {
          const first = await infer(service, `user-${i}`);
          const again = await infer(service, `user-${i}`);
          assert.equal(first.model_version, again.model_version, `user-${i} stays on one version`);
          counts[String(first.model_version)] = (counts[String(first.model_version)] ?? 0) + 1;
        }
        assert.ok((counts["1.0.0"] ?? 0) > (counts["1.1.0"] ?? 0), JSON.stringify(counts));
        assert.ok((counts["1.1.0"] ?? 0) > 0, JSON.stringify(counts));
        const champion = await infer(service, "user-0");
        const outputs = champion.outputs as { name: string; data: number[] }[];
        assert.equal(outputs[0]?.name, "sample_0");
        assert.equal(outputs[0]?.data.length, 2);
        // Each alias change warms its version up in the background; readiness waits for the last one.
        let status = 0;
        for (const deadline = Date.now() + 30_000; status !== 200 && Date.now() < deadline;) {
          const ready = await fetch(`${service.url}/v2/health/ready`);
          status = ready.status;
          await ready.body?.cancel();
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(status, 200);
      } finally {
        await service.stop();
      }
    });
  });
}
