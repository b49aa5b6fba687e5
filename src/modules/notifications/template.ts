/**
 * Notification templates: `{{ path }}` placeholders filled from the
 * event (`{{ event.type }}`, `{{ entity.name }}`, `{{ data.collection }}`,
 * `{{ service }}`). A missing value renders empty; objects render as JSON.
 * In HTML templates every value is escaped.
 */
import { escapeHtml } from "../../http/html.ts";

/** A template per part of a message; `html` is optional. */
export interface NotificationTemplate {
  /** The subject line. */
  subject: string;
  /** The plain-text body. */
  text: string;
  /** An HTML body (values escaped). */
  html?: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_$][\w$]*(?:\.[\w$-]+)*)\s*\}\}/g;

function lookup(context: Record<string, unknown>, path: string): unknown {
  let value: unknown = context;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Fills the placeholders of `template` from `context`; `html` escapes every value. */
export function renderTemplate(template: string, context: Record<string, unknown>, options: { html?: boolean } = {}): string {
  return template.replace(PLACEHOLDER, (_, path: string) => {
    const text = show(lookup(context, path));
    return options.html ? escapeHtml(text) : text;
  });
}

/** The built-in templates of the events notifications are usually about; any other event gets {@link GENERIC_TEMPLATE}. */
export const DEFAULT_TEMPLATES: Readonly<Record<string, NotificationTemplate>> = {
  "job.failed": {
    subject: "[{{ service }}] Job {{ entity.name }} failed",
    text: "Job {{ data.id }} ({{ entity.name }}) failed after {{ entity.attempts }} attempt(s) at {{ event.timestamp }}.\nError: {{ entity.error }}",
  },
  "model.promoted": {
    subject: "[{{ service }}] Model {{ entity.name }} promoted",
    text: "Model {{ entity.name }}: alias {{ entity.alias }} now points to version {{ entity.to_version }} (was {{ entity.from_version }}), by {{ entity.actor }} at {{ event.timestamp }}.",
  },
  "alert.fired": {
    subject: "[{{ service }}] Alert: {{ entity.name }} is {{ entity.state }}",
    text: "{{ entity.message }}\nValue {{ entity.value }}, threshold {{ entity.threshold }}, since {{ entity.at }}.",
  },
  "alert.resolved": {
    subject: "[{{ service }}] Resolved: {{ entity.name }}",
    text: "{{ entity.message }}\n{{ entity.name }} is healthy again since {{ entity.at }}.",
  },
};

/** The template of an event type without a template of its own. */
export const GENERIC_TEMPLATE: NotificationTemplate = {
  subject: "[{{ service }}] {{ event.type }} {{ data.collection }} {{ data.id }}",
  text: "{{ event.type }} of {{ data.collection }} {{ data.id }} at {{ event.timestamp }}.\n{{ entity }}",
};
