/** A service process for the settings, reload and drain tests: prints `READY <port>`, then serves until signalled. */
import { Elysia } from "elysia";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

const running = await new ServiceBuilder({ info: { display_name: "Settings" } })
  .withHealth()
  .withSystem()
  .withLogging({ requests: false })
  .use(new Elysia().get("/probe", () => ({ ok: true })).get("/log", ({ query }) => {
    running.app.chapkit.context.logger.debug("probe.debug_visible", { mark: query.mark });
    return { logged: true };
  }))
  .listen(0, { hostname: "127.0.0.1" });

running.app.chapkit.context.logger.debug("probe.debug_visible");
console.log(`READY ${running.port}`);
