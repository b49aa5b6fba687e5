/** A service process for the shared rate-limit test: `/ping` under the settings' limits; prints `READY <port>`. */
import { Elysia } from "elysia";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

const running = await new ServiceBuilder({ info: { display_name: "Limited" } })
  .withHealth()
  .use(new Elysia().get("/ping", () => ({ pong: true })))
  .listen(0, { hostname: "127.0.0.1" });
console.log(`READY ${running.port}`);
