/** A service process for the overload tests: `/slow` takes SLOW_MS; prints `READY <port>`. */
import { Elysia } from "elysia";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

const slowMs = Number(process.env.SLOW_MS ?? 100);
const running = await new ServiceBuilder({ info: { display_name: "Overload" } })
  .withHealth()
  .use(new Elysia().get("/slow", async () => {
    await new Promise((resolve) => setTimeout(resolve, slowMs));
    return { done: true };
  }))
  .listen(0, { hostname: "127.0.0.1" });
console.log(`READY ${running.port}`);
