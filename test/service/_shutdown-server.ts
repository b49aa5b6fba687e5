/** A service process for the graceful-shutdown test: prints `READY <port>`, then serves until signalled. */
import { Elysia } from "elysia";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { notesModule } from "./_notes-module.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

const running = await new ServiceBuilder({ info: { display_name: "Shutdown" }, databaseUrl: env.DATABASE_URL })
  .module(notesModule())
  .use(new Elysia().get("/slow", async () => {
    await new Promise((resolve) => setTimeout(resolve, 700));
    return { done: true };
  }))
  .onShutdown(() => console.log("SHUTDOWN_HOOK"))
  .listen(0, { hostname: "127.0.0.1", graceMs: 5000 });

console.log(`READY ${running.port}`);
