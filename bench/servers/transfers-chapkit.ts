// The chapkit side of the transfers suite: artifacts with streamed uploads and
// downloads on the store DATABASE_URL names and the backend CHAPKIT_STORAGE_URL names.
import { artifactsModule } from "../../src/modules/artifact/mod.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

await new ServiceBuilder({ info: { display_name: "Transfers" }, databaseUrl: process.env.DATABASE_URL ?? "sqlite::memory:" })
  .withHealth()
  .module(artifactsModule({ hierarchy: { name: "bench" } }))
  .listen(Number(process.env.PORT ?? 8000), { hostname: "127.0.0.1" });
