import type { Logger } from "../core/logging.ts";
import { OutboundPolicy } from "../core/resilient-fetch.ts";
import type { HealthState } from "./thresholds.ts";

/** The payload shapes a webhook can receive. */
export type AlertFormat = "alertmanager" | "pagerduty" | "slack" | "json";

/** Where alerts go. */
export interface AlertWebhook {
  /** The URL posted to (Alertmanager: its `/api/v2/alerts`; PagerDuty: `https://events.pagerduty.com/v2/enqueue`). */
  url: string;
  /** Payload shape (default `json`, chapkit's own {@link Alert}). */
  format?: AlertFormat;
  /** PagerDuty integration (routing) key; required for `pagerduty`. */
  routingKey?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** An alert: a check that started or stopped failing. */
export interface Alert {
  /** `firing` when the check left `healthy` or got worse, `resolved` when it is healthy again. */
  status: "firing" | "resolved";
  /** The check (`latency_p95`, `error_ratio`, `anomaly_latency`…). */
  name: string;
  /** Its state now. */
  state: HealthState;
  /** Its state before. */
  previous: HealthState;
  /** The measured value. */
  value: number;
  /** The threshold crossed. */
  threshold: number;
  /** A sentence for people. */
  message: string;
  /** The service's name. */
  service: string;
  /** ISO 8601 time of the change. */
  at: string;
}

/** Options of {@link AlertNotifier}. */
export interface AlertNotifierOptions {
  /** Where to post. */
  webhooks: readonly AlertWebhook[];
  /** The service's name, in every payload. */
  service: string;
  /** A link back to the service (its `/status` page), in payloads that carry one. */
  link?: string;
  /**
   * The outbound policy deliveries go through (timeouts, retries with back-off
   * and jitter, a breaker per origin). Default: 4 retries from 500 ms, POSTs
   * retried (receivers deduplicate alerts by their labels or dedup key).
   */
  outbound?: OutboundPolicy;
  /** Where undelivered alerts are logged. */
  logger?: Logger;
}

/** The body one webhook receives for an alert, by its format. */
export function alertPayload(alert: Alert, webhook: AlertWebhook, link?: string): unknown {
  const severity = alert.state === "unhealthy" ? "critical" : "warning";
  switch (webhook.format ?? "json") {
    case "alertmanager":
      // Alertmanager API v2: a list of alerts; endsAt in the past resolves one.
      return [{
        labels: { alertname: alert.name, service: alert.service, severity: alert.status === "resolved" ? "none" : severity },
        annotations: { summary: alert.message, value: String(alert.value), threshold: String(alert.threshold) },
        startsAt: alert.at,
        ...(alert.status === "resolved" ? { endsAt: alert.at } : {}),
        ...(link ? { generatorURL: link } : {}),
      }];
    case "pagerduty":
      return {
        routing_key: webhook.routingKey ?? "",
        event_action: alert.status === "resolved" ? "resolve" : "trigger",
        dedup_key: `${alert.service}/${alert.name}`,
        ...(alert.status === "resolved" ? {} : {
          payload: {
            summary: `${alert.service}: ${alert.message}`,
            source: alert.service,
            severity,
            timestamp: alert.at,
            component: alert.name,
            custom_details: { state: alert.state, previous: alert.previous, value: alert.value, threshold: alert.threshold },
          },
        }),
        ...(link ? { links: [{ href: link, text: "Status page" }] } : {}),
      };
    case "slack": {
      const mark = alert.status === "resolved" ? ":white_check_mark:" : alert.state === "unhealthy" ? ":red_circle:" : ":warning:";
      return {
        text: `${mark} ${alert.service} ${alert.name} is ${alert.state}: ${alert.message}`,
        blocks: [{
          type: "section",
          text: { type: "mrkdwn", text: `${mark} *${alert.service}* \`${alert.name}\` is *${alert.state}* (was ${alert.previous})\n${alert.message}` },
        }],
      };
    }
    default:
      return alert;
  }
}

/** The outbound policy of alert deliveries unless one is given. */
export function alertOutboundPolicy(options: { retries?: number; backoffMs?: number } = {}): OutboundPolicy {
  return new OutboundPolicy({ retries: options.retries ?? 4, backoffMs: options.backoffMs ?? 500, retryNonIdempotent: true });
}

/**
 * Posts each alert to every webhook once, in the webhook's format, through
 * the outbound policy (`resilientFetch`'s: failures — network errors, 408,
 * 429, 5xx — retried with exponential back-off and jitter, a breaker per
 * origin); a webhook that still fails is logged and skipped. Deliveries run
 * in the background: {@link AlertNotifier.notify} never blocks the caller.
 */
export class AlertNotifier {
  readonly #options: AlertNotifierOptions;
  readonly #outbound: OutboundPolicy;
  readonly #pending = new Set<Promise<void>>();

  /** Creates a notifier over `options.webhooks`. */
  constructor(options: AlertNotifierOptions) {
    for (const webhook of options.webhooks) {
      if (webhook.format === "pagerduty" && !webhook.routingKey) {
        throw new TypeError(`The PagerDuty webhook ${webhook.url} needs a routingKey`);
      }
    }
    this.#options = options;
    this.#outbound = options.outbound ?? alertOutboundPolicy();
  }

  /** Sends `alert` to every webhook (in the background). */
  notify(alert: Omit<Alert, "service">): void {
    const full: Alert = { ...alert, service: this.#options.service };
    for (const webhook of this.#options.webhooks) {
      const delivery = this.#deliver(full, webhook).finally(() => this.#pending.delete(delivery));
      this.#pending.add(delivery);
    }
  }

  /** Resolves when every delivery started so far has ended. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #deliver(alert: Alert, webhook: AlertWebhook): Promise<void> {
    const body = JSON.stringify(alertPayload(alert, webhook, this.#options.link));
    let failure: string;
    try {
      const response = await this.#outbound.fetch(webhook.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...webhook.headers },
        body,
      });
      await response.body?.cancel();
      if (response.ok) return;
      failure = `HTTP ${response.status}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    this.#options.logger?.error("alerts.delivery.failed", { url: webhook.url, alert: alert.name, status: alert.status, error: failure });
  }
}
