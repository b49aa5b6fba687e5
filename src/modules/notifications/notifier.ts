import { Type } from "@sinclair/typebox";
import type { EventBus, Unsubscribe } from "../../core/events/bus.ts";
import { localSelector } from "../../core/events/selector.ts";
import type { EventSelector, ServiceEvent } from "../../core/events/types.ts";
import type { Logger } from "../../core/logging.ts";
import type { OutboundPolicy } from "../../core/resilient-fetch.ts";
import type { NotificationChannel, NotificationMessage } from "../../integrations/notifications/types.ts";
import type { EnqueueOptions, JobBackoff, JobHandlerContext, JobRunner } from "../jobs/types.ts";
import { DEFAULT_TEMPLATES, GENERIC_TEMPLATE, type NotificationTemplate, renderTemplate } from "./template.ts";

/** The job handler name that sends one notification through one channel. */
export const SEND_JOB = "notifications.send";

/** Which events notify whom, and how the message reads. */
export interface NotificationRule {
  /** Unique name (in dedup keys and logs). */
  name: string;
  /** Event types (`job.failed`, `model.promoted`, `alert.*`); absent or empty: every type. */
  types?: readonly string[];
  /** Collections; absent or empty: every collection. */
  collections?: readonly string[];
  /** A filter over the entity in the list grammar (`name = "train"`). */
  filter?: string;
  /** Names of the channels to send through. */
  channels: readonly string[];
  /** The message (default: the built-in template of the event type). */
  template?: NotificationTemplate;
}

/** How a {@link Notifier} is made. */
export interface NotifierOptions {
  /** Channels by name. */
  channels: Readonly<Record<string, NotificationChannel>>;
  /** Rules that turn events into notifications. */
  rules?: readonly NotificationRule[];
  /** The service's bus. */
  bus: EventBus;
  /** The job queue (retries with back-off). */
  jobs: JobRunner;
  /** The outbound HTTP policy of HTTP channels (timeouts, breaker per origin). */
  policy: OutboundPolicy;
  /** The service's display name (`{{ service }}`). */
  service: string;
  /** Attempts per send (default 6). */
  maxAttempts?: number;
  /** Back-off between attempts (default 2 s doubling, at most 10 min). */
  backoff?: JobBackoff;
  /** Where failures to enqueue are reported. */
  logger?: Logger;
}

interface SendPayload {
  channel: string;
  message: NotificationMessage;
}

/**
 * Notifications: rules select events (types, collections, the filter
 * grammar) and render a template per event; {@link Notifier.notify} sends a
 * message of your own. Either way each channel's send is one job
 * (`notifications.send`), retried with back-off until the channel accepts
 * it; an event's sends are deduplicated per rule, channel and event id.
 */
export class Notifier {
  readonly #options: NotifierOptions;
  readonly #rules: { rule: NotificationRule; selector: EventSelector }[] = [];
  #unsubscribe: Unsubscribe[] = [];

  /**
   * Checks the rules: unique names, known channels, filters that parse.
   *
   * @throws {TypeError} naming the rule or channel. @throws {ValidationError} on a bad filter.
   */
  constructor(options: NotifierOptions) {
    this.#options = options;
    const names = new Set<string>();
    for (const rule of options.rules ?? []) {
      if (names.has(rule.name)) throw new TypeError(`Notification rule "${rule.name}" is configured twice`);
      names.add(rule.name);
      for (const channel of rule.channels) {
        if (!options.channels[channel]) throw new TypeError(`Notification rule "${rule.name}" names the unknown channel "${channel}"`);
      }
      this.#rules.push({
        rule,
        selector: localSelector(rule),
      });
    }
  }

  /** Registers the send job handler and subscribes the rules to the bus. */
  start(): void {
    this.#options.jobs.register(SEND_JOB, {
      payload: Type.Object({
        channel: Type.String(),
        message: Type.Object({ subject: Type.String(), text: Type.String() }, { additionalProperties: true }),
      }),
      maxAttempts: this.#options.maxAttempts ?? 6,
      backoff: this.#options.backoff ?? { delay_ms: 2000, factor: 2, max_ms: 600_000 },
      run: (payload: SendPayload, context: JobHandlerContext) => this.#send(payload, context.signal),
    });
    for (const { rule, selector } of this.#rules) {
      this.#unsubscribe.push(this.#options.bus.subscribe(selector, (event) => {
        if (isOwnJob(event)) return;
        const message = this.render(rule.template ?? DEFAULT_TEMPLATES[event.type] ?? GENERIC_TEMPLATE, event);
        for (const channel of rule.channels) {
          this.#enqueue(channel, message, { dedupKey: `notify:${rule.name}:${channel}:${event.id}` }).catch((error: unknown) => {
            this.#options.logger?.error("notifications.enqueue_failed", { error, rule: rule.name, channel, event_id: event.id });
          });
        }
      }));
    }
  }

  /** Renders a template for an event (what a rule sends). */
  render(template: NotificationTemplate, event: ServiceEvent): NotificationMessage {
    const context = { event, data: event.data, entity: event.data.entity, service: this.#options.service };
    return {
      subject: renderTemplate(template.subject, context),
      text: renderTemplate(template.text, context),
      ...(template.html ? { html: renderTemplate(template.html, context, { html: true }) } : {}),
      event,
    };
  }

  /**
   * Sends a message of your own through the named channels, each as a job.
   * Resolves with the job ids. @throws {TypeError} on an unknown channel.
   */
  async notify(channels: readonly string[], message: NotificationMessage): Promise<string[]> {
    for (const channel of channels) {
      if (!this.#options.channels[channel]) throw new TypeError(`Unknown notification channel "${channel}"`);
    }
    const ids: string[] = [];
    for (const channel of channels) ids.push(await this.#enqueue(channel, message, {}));
    return ids;
  }

  async #enqueue(channel: string, message: NotificationMessage, options: EnqueueOptions): Promise<string> {
    const { record } = await this.#options.jobs.enqueue(SEND_JOB, { channel, message }, options);
    return record.id;
  }

  async #send(payload: SendPayload, signal: AbortSignal): Promise<void> {
    const channel = this.#options.channels[payload.channel];
    // A channel removed from the configuration: nothing to send through.
    if (!channel) return;
    const policy = this.#options.policy;
    await channel.send(payload.message, { fetch: (url, init) => policy.fetch(url, init), signal });
  }

  /** Stops turning events into notifications (queued sends stay queued). */
  stop(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }
}

/** A job event of a send job itself: a rule on `job.failed` would otherwise notify about its own failures forever. */
function isOwnJob(event: ServiceEvent): boolean {
  if (event.data.collection !== "jobs") return false;
  return (event.data.entity as { name?: unknown } | null)?.name === SEND_JOB;
}
