import { Type } from "@sinclair/typebox";
import type { EventBus, Unsubscribe } from "../../core/events/bus.ts";
import { localSelector } from "../../core/events/selector.ts";
import type { EventSelector, ServiceEvent } from "../../core/events/types.ts";
import type { Logger } from "../../core/logging.ts";
import type { MessageQueue } from "../../integrations/queues/types.ts";
import type { JobBackoff, JobRunner } from "../jobs/types.ts";

/** The job handler name that publishes one event to one sink. */
export const PUBLISH_JOB = "queues.publish";

/** One sink: which events go to which broker. */
export interface QueueSink {
  /** Unique name; it appears in job payloads and dedup keys, so keep it stable across deploys. */
  name: string;
  /** The broker. */
  queue: MessageQueue;
  /** Event types (`entity.created`, `job.*`); absent or empty: every type. */
  types?: readonly string[];
  /** Collections; absent or empty: every collection. */
  collections?: readonly string[];
  /** A filter over the entity in the list grammar (`data.k >= 10`). */
  filter?: string;
  /** The message subject of an event (default `<type>.<collection>`, e.g. `entity.created.configs`). */
  subject?: (event: ServiceEvent) => string;
}

/** How {@link QueueSinks} is made. */
export interface QueueSinksOptions {
  /** The sinks (names unique). */
  sinks: readonly QueueSink[];
  /** The service's bus. */
  bus: EventBus;
  /** The job queue: the outbox and the retries. */
  jobs: JobRunner;
  /** Attempts per publish (default 10). */
  maxAttempts?: number;
  /** Back-off between attempts (default 1 s doubling, at most 5 min). */
  backoff?: JobBackoff;
  /** Where failures to enqueue are reported. */
  logger?: Logger;
}

/** The body every sink publishes: the event as webhooks, SSE and WebSocket carry it. */
export function eventMessage(event: ServiceEvent): string {
  return JSON.stringify(event);
}

/**
 * Event-bus sinks: each event this instance published that a sink selects
 * becomes a `queues.publish` job (dedup key `queues:<sink>:<event id>`),
 * stored in the service's database; the job publishes it with the event id
 * as the message id and is retried with back-off until the broker confirms.
 */
export class QueueSinks {
  readonly #options: QueueSinksOptions;
  readonly #byName = new Map<string, { sink: QueueSink; selector: EventSelector }>();
  #unsubscribe: Unsubscribe[] = [];

  /**
   * Checks the sinks (unique names, filters that parse).
   *
   * @throws {TypeError} on a duplicate name. @throws {ValidationError} on a bad filter.
   */
  constructor(options: QueueSinksOptions) {
    this.#options = options;
    for (const sink of options.sinks) {
      if (this.#byName.has(sink.name)) throw new TypeError(`Queue sink "${sink.name}" is configured twice`);
      this.#byName.set(sink.name, {
        sink,
        selector: localSelector(sink),
      });
    }
  }

  /** Registers the publish job handler and subscribes every sink to the bus. */
  start(): void {
    const { jobs, bus } = this.#options;
    jobs.register(PUBLISH_JOB, {
      payload: Type.Object({ sink: Type.String(), event: Type.Object({ id: Type.String(), type: Type.String() }, { additionalProperties: true }) }),
      maxAttempts: this.#options.maxAttempts ?? 10,
      backoff: this.#options.backoff ?? { delay_ms: 1000, factor: 2, max_ms: 300_000 },
      run: (payload: { sink: string; event: ServiceEvent }) => this.publish(payload.sink, payload.event),
    });
    for (const [name, { selector }] of this.#byName) {
      this.#unsubscribe.push(bus.subscribe(selector, (event) => {
        if (isOwnJob(event)) return;
        jobs.enqueue(PUBLISH_JOB, { sink: name, event }, { dedupKey: `queues:${name}:${event.id}` }).catch((error: unknown) => {
          this.#options.logger?.error("queues.enqueue_failed", { error, sink: name, event_id: event.id });
        });
      }));
    }
  }

  /** One attempt (the job handler): publishes the event to the sink's broker; a throw makes the queue retry. */
  async publish(sinkName: string, event: ServiceEvent): Promise<void> {
    const entry = this.#byName.get(sinkName);
    // A sink removed from the configuration: nothing to publish to.
    if (!entry) return;
    const { sink } = entry;
    await sink.queue.publish({
      id: event.id,
      subject: sink.subject ? sink.subject(event) : `${event.type}.${event.data.collection}`,
      body: eventMessage(event),
      headers: { "event-type": event.type },
    });
  }

  /** Stops turning events into jobs (queued publishes stay queued). */
  stop(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }
}

/** A job event of a publish job itself: sinks that select `job.*` would otherwise feed themselves forever. */
function isOwnJob(event: ServiceEvent): boolean {
  if (event.data.collection !== "jobs") return false;
  const name = (event.data.entity as { name?: unknown } | null)?.name;
  return name === PUBLISH_JOB;
}
