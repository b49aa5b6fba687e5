/** A notes service with GraphQL on DATABASE_URL; prints `READY <port>`. */
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { Note } from "../../http/_api-service.ts";

const service = await new ServiceBuilder({ info: { display_name: "GraphQL" } })
  .withSettings({ env: {} })
  .withDatabase((globalThis as { process?: { env: Record<string, string | undefined> } }).process!.env.DATABASE_URL!)
  .withEntity(Note)
  .withGraphql()
  .listen(0, { hostname: "127.0.0.1" });
console.log(`READY ${service.port}`);
