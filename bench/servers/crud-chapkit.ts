// The chapkit side of the crud suite: the config service as a deployment
// would run it (health, configs, default logging to stderr), on DATABASE_URL.
// BENCH_SEED rows are inserted at start-up, before the port opens.
// BENCH_MONITORING=1 turns on withMonitoring() (metrics of requests and statements).
// The root entry, as a service imports it, so start-up includes what importing `chapkit` costs.
import { type ConfigManager, ServiceBuilder } from "../../mod.ts";
import { CONFIG_KEY } from "../../src/modules/config/keys.ts";
import { BENCH_DATA, BenchConfigData, seedCount, seedName } from "./bench-config.ts";

const seed = seedCount();

const builder = new ServiceBuilder({
  info: { display_name: "Bench Config Service", version: "1.0.0" },
  databaseUrl: process.env.DATABASE_URL ?? "sqlite::memory:",
});
if (process.env.BENCH_MONITORING === "1") builder.withMonitoring();
await builder
  .withLogging()
  .withHealth()
  .withConfig(BenchConfigData)
  .onStartup(async (context) => {
    if (seed === 0) return;
    const store = context.get<ConfigManager>(CONFIG_KEY).store;
    await store.insertMany(Array.from({ length: seed }, (_, i) => ({ name: seedName(i), data: BENCH_DATA })));
  })
  .listen(Number(process.env.PORT ?? 8000), { hostname: "127.0.0.1" });
