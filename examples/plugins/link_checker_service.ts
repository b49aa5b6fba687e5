/**
 * A service that installs the third-party-style link-checker plugin:
 * `/api/v1/links` CRUD, an hourly check job, `/api/v1/links/$report`.
 *
 *   bun examples/plugins/link_checker_service.ts     (PORT, DATABASE_URL)
 */
import { ServiceBuilder } from "chapkit";
import { linkChecker } from "./link-checker/mod.ts";

await new ServiceBuilder({ info: { display_name: "Link checker" } })
  .withSettings()
  .withHealth()
  .withJobs()
  .withPlugin(linkChecker({ cron: "0 * * * *", timeoutMs: 3_000 }))
  .listen();
