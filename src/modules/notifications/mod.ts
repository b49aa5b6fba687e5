/**
 * Notifications (`withNotifications()`): e-mail over SMTP, Slack-compatible
 * and generic webhooks, and SMS through any provider's HTTP API, rendered
 * from templates and sent through the job queue with retries, triggered by
 * events (a job failed, a model promoted, an alert) or sent directly. The
 * channels live in `src/integrations/notifications/` (they reach outside
 * systems); this module ties them to the bus and the job queue.
 *
 * @module
 */
import { OutboundPolicy, outboundOptions } from "../../core/resilient-fetch.ts";
import { outboundRegistryOf } from "../../http/health.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import type { NotificationChannel } from "../../integrations/notifications/types.ts";
import type { JobBackoff, JobRunner } from "../jobs/types.ts";
import { type NotificationRule, Notifier } from "./notifier.ts";

export { Notifier, SEND_JOB } from "./notifier.ts";
export type { NotificationRule, NotifierOptions } from "./notifier.ts";
export { DEFAULT_TEMPLATES, GENERIC_TEMPLATE, renderTemplate } from "./template.ts";
export type { NotificationTemplate } from "./template.ts";

/** The key the notifications module provides its {@link Notifier} under. */
export const NOTIFICATIONS_KEY = "notifications";

/** Options of {@link notificationsModule}. */
export interface NotificationsModuleOptions {
  /** Channels by name (`emailChannel`, `slackChannel`, `webhookChannel`, `smsChannel`, or your own). */
  channels: Readonly<Record<string, NotificationChannel>>;
  /** Which events notify which channels. */
  rules?: readonly NotificationRule[];
  /** Attempts per send (default 6). */
  maxAttempts?: number;
  /** Back-off between attempts (default 2 s doubling, at most 10 min). */
  backoff?: JobBackoff;
  /** Milliseconds one HTTP send may take (default the `outbound.timeoutMs` setting). */
  timeoutMs?: number;
}

/**
 * The notifications module: the `notifications.send` job handler, the
 * rules' bus subscriptions, and the {@link Notifier} under
 * `"notifications"`. Needs the jobs module.
 */
export function notificationsModule(options: NotificationsModuleOptions): ServiceModule {
  let notifier: Notifier | undefined;
  return {
    name: "notifications",
    requires: ["jobs"],
    setup(context: ServiceContext): void {
      // The job queue retries; the policy adds the timeout and the breaker, not retries of its own.
      const policy = new OutboundPolicy(outboundOptions(context.settings.outbound, {
        retries: 0,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      }));
      outboundRegistryOf(context).add(policy);
      notifier = new Notifier({
        channels: options.channels,
        ...(options.rules ? { rules: options.rules } : {}),
        bus: context.events,
        jobs: context.get<JobRunner>("jobs"),
        policy,
        service: context.info.display_name,
        logger: context.logger.child({ module: "notifications" }),
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      });
      notifier.start();
      context.provide(NOTIFICATIONS_KEY, notifier);
    },
    stop(): void {
      notifier?.stop();
    },
  };
}
