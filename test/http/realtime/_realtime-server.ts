/** A service with configs, jobs and realtime on DATABASE_URL; prints `READY <port>`. */
import { Type } from "@sinclair/typebox";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";

const service = await new ServiceBuilder({ info: { display_name: "Realtime" } })
  .withSettings({ env: {} })
  .withDatabase((globalThis as { process?: { env: Record<string, string | undefined> } }).process!.env.DATABASE_URL!)
  .withConfig(Type.Object({ k: Type.Integer({ default: 3 }) }))
  .withRealtime({ heartbeatMs: 200 })
  .listen(0, { hostname: "127.0.0.1" });
console.log(`READY ${service.port}`);
