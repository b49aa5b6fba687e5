/**
 * Message queues as sinks and sources of the service (`withQueues()`):
 * chosen events go out to RabbitMQ, NATS JetStream or MQTT through the job
 * queue (the store is the outbox: a publish is a job, retried until the
 * broker confirms), and consumed messages come in as jobs, once per message
 * id. The broker adapters live in `src/integrations/queues/` (they talk to
 * outside systems and load optional peers); this module ties them to the
 * event bus and the job queue, which only `src/modules` may use.
 *
 * @module
 */
import type { JobBackoff, JobRunner } from "../jobs/types.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { type QueueSink, QueueSinks } from "./sink.ts";
import { type QueueSource, QueueSources } from "./source.ts";
import { QUEUES_MIGRATIONS } from "./store.ts";
import { unrefTimer } from "../../core/timers.ts";

export { eventMessage, PUBLISH_JOB, QueueSinks } from "./sink.ts";
export type { QueueSink, QueueSinksOptions } from "./sink.ts";
export { QueueSources } from "./source.ts";
export type { QueueSource, QueueSourcesOptions, ReceiptOutcome } from "./source.ts";
export { QUEUES_MIGRATIONS } from "./store.ts";

/** Options of {@link queuesModule}. */
export interface QueuesModuleOptions {
  /** Where chosen events are published. */
  sinks?: readonly QueueSink[];
  /** Where jobs come from. */
  sources?: readonly QueueSource[];
  /** Attempts per publish (default 10). */
  maxAttempts?: number;
  /** Back-off between publish attempts (default 1 s doubling, at most 5 min). */
  backoff?: JobBackoff;
  /** Milliseconds receipts of consumed messages are kept (default 7 days): a redelivery within it makes no second job. */
  receiptRetentionMs?: number;
}

/**
 * The queues module: the `queues.publish` job handler and the bus
 * subscriptions of the sinks (set up with the service), the consumers of the
 * sources (started when it serves, stopped on shutdown before the store
 * closes), and the receipts table. Needs the jobs module.
 */
export function queuesModule(options: QueuesModuleOptions): ServiceModule {
  let sinks: QueueSinks | undefined;
  let sources: QueueSources | undefined;
  let prune: ReturnType<typeof setInterval> | undefined;
  return {
    name: "queues",
    requires: ["jobs"],
    migrations: QUEUES_MIGRATIONS,
    setup(context: ServiceContext): void {
      const jobs = context.get<JobRunner>("jobs");
      const logger = context.logger.child({ module: "queues" });
      sinks = new QueueSinks({
        sinks: options.sinks ?? [],
        bus: context.events,
        jobs,
        logger,
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      });
      sinks.start();
      sources = new QueueSources({ sources: options.sources ?? [], db: context.db, jobs, logger });
    },
    async start(): Promise<void> {
      await sources?.start();
      const retention = options.receiptRetentionMs ?? 7 * 24 * 3_600_000;
      prune = setInterval(() => {
        sources?.prune(new Date(Date.now() - retention).toISOString()).catch(() => {});
      }, Math.min(retention, 3_600_000));
      unrefTimer(prune);
    },
    async stop(): Promise<void> {
      clearInterval(prune);
      sinks?.stop();
      await sources?.stop();
      const queues = new Set([...(options.sinks ?? []), ...(options.sources ?? [])].map((entry) => entry.queue));
      await Promise.all([...queues].map((queue) => queue.close().catch(() => {})));
    },
  };
}
