/** Time partitions of a service's tables: created ahead and dropped by retention at start-up and every hour. */
import type { Logger } from "../core/logging.ts";
import type { Driver } from "../db/driver.ts";
import { Partitions, PARTITIONS_KEY } from "../db/partitions.ts";
import type { ServiceModule } from "../http/module.ts";
import { unrefTimer } from "../core/timers.ts";

const EVERY_MS = 60 * 60 * 1000;

/**
 * Provides the service's {@link Partitions} under {@link PARTITIONS_KEY};
 * modules add their partitioned tables in their set-up (the audit log,
 * `withEntity(…, { partition })`). Maintenance runs once the service starts
 * and then hourly; a failed pass is logged and tried again at the next.
 */
export function partitionsModule(db: Driver, logger: Logger): ServiceModule {
  const partitions = new Partitions();
  let timer: ReturnType<typeof setInterval> | undefined;
  const pass = async (): Promise<void> => {
    try {
      const report = await partitions.maintain(db);
      if (report.created.length || report.dropped.length || report.deleted) logger.info("db.partitions.maintained", { ...report });
    } catch (error) {
      logger.warn("db.partitions.failed", { error });
    }
  };
  return {
    name: "partitions",
    setup(context): void {
      context.provide(PARTITIONS_KEY, partitions);
    },
    async start(): Promise<void> {
      if (partitions.tables.size === 0) return;
      await pass();
      timer = setInterval(() => void pass(), EVERY_MS);
      unrefTimer(timer);
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}
