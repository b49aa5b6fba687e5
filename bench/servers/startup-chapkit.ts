// The chapkit side of the startup suite: a quickstart-like service (health,
// system, info, landing page, docs, default logging) on a SQLite file.
// It imports the root entry as a service does, so start-up includes what importing chapkit costs:
// BENCH_CHAPKIT_ENTRY names the module (the built package's dist/mod.js, which `bun add chapkit`
// installs); without it, the TypeScript sources (mod.ts, as a checkout or JSR runs them).
export {};
const entry = process.env.BENCH_CHAPKIT_ENTRY ?? "../../mod.ts";
const { ServiceBuilder } = (await import(entry)) as typeof import("../../mod.ts");

await new ServiceBuilder({
  info: { display_name: "Quickstart Service", version: "1.0.0", summary: "A chapkit service with health, system info and docs" },
  databaseUrl: process.env.DATABASE_URL ?? "sqlite::memory:",
})
  .withLogging()
  .withHealth()
  .withSystem()
  .withLandingPage()
  .listen(Number(process.env.PORT ?? 8000), { hostname: "127.0.0.1" });
