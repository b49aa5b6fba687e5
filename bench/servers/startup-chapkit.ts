// The chapkit side of the startup suite: a quickstart-like service (health,
// system, info, landing page, docs, default logging) on a SQLite file.
// The root entry, as a service imports it, so start-up includes what importing `chapkit` costs.
import { ServiceBuilder } from "../../mod.ts";

await new ServiceBuilder({
  info: { display_name: "Quickstart Service", version: "1.0.0", summary: "A chapkit service with health, system info and docs" },
  databaseUrl: process.env.DATABASE_URL ?? "sqlite::memory:",
})
  .withLogging()
  .withHealth()
  .withSystem()
  .withLandingPage()
  .listen(Number(process.env.PORT ?? 8000), { hostname: "127.0.0.1" });
