/** The event bus of a service, wired to its store: after-commit delivery and, on PostgreSQL, the outbox. */
import { EventBus } from "../core/events/bus.ts";
import type { Logger } from "../core/logging.ts";
import type { Settings } from "../core/settings/schema.ts";
import type { CommitTrackingDriver } from "../db/commit-hooks.ts";
import type { Driver } from "../db/driver.ts";
import { OutboxJournal } from "../db/event-outbox.ts";
import type { ServiceModule } from "../http/module.ts";

/** What {@link createEventBus} needs. */
export interface EventBusParts {
  /** The service's store, wrapped with `trackCommits`. */
  db: CommitTrackingDriver;
  /** The store as opened: its `listen` (PostgreSQL) carries other instances' notifications. */
  opened: Driver;
  /** Marks events this instance published, so notifications from other instances are told apart. */
  instanceId: string;
  /** The `events` settings. */
  settings: Settings["events"];
  /**
   * Whether events are kept for subscribers that resume (the realtime module's). Without them
   * nothing reads the kept events, and under a write load they would only outlive the garbage
   * collector's young generation: about 10 MiB more peak memory on the crud benchmark's POSTs.
   */
  replay: boolean;
  /** Where failures are reported. */
  logger: Logger;
}

/** The bus of a service: in-process on SQLite, across instances through the outbox on PostgreSQL. */
export function createEventBus(parts: EventBusParts): EventBus {
  const { db, opened, settings, logger } = parts;
  const journal = db.dialect === "postgres" && opened.listen
    ? new OutboxJournal(db, {
      origin: parts.instanceId,
      listen: (channel, onNotify) => opened.listen!(channel, onNotify),
      retentionMs: settings.outboxRetentionMs,
      logger,
    })
    : undefined;
  return new EventBus({
    hooks: db,
    ...(journal ? { journal } : {}),
    replayLimit: parts.replay ? settings.replayLimit : 0,
    exclude: settings.exclude,
    logger,
  });
}

/** Starts the bus's cross-instance delivery first and stops it last. */
export function eventsModule(bus: EventBus): ServiceModule {
  return {
    name: "events",
    async setup(): Promise<void> {
      await bus.start();
    },
    async stop(): Promise<void> {
      await bus.stop();
    },
  };
}
