/** A service process for the settings and reload tests: prints `READY <port>`, then serves until signalled. */
import { Elysia } from "elysia";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

const running = await new ServiceBuilder({ info: { display_name: "Settings" } })
  .withHealth()
  .withLogging({ requests: false })
  .use(new Elysia().get("/probe", () => ({ ok: true })))
  .listen(0, { hostname: "127.0.0.1" });

running.app.chapkit.context.logger.debug("probe.debug_visible");
console.log(`READY ${running.port}`);
