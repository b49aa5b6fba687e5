import { ValidationError } from "../../core/errors.ts";
import { parseFilter } from "../../core/query/filter-parse.ts";
import { Manager, type ManagerEvents } from "../../core/manager.ts";
import type { Repository } from "../../core/repository.ts";
import { WebhookInSchema, WebhookOutSchema, type WebhookRecord } from "./schema.ts";

type WebhookInput = {
  url: string;
  event_types?: string[];
  collections?: string[];
  filter?: string | null;
  secret: string;
  enabled?: boolean;
  description?: string | null;
};

/** How a {@link WebhookManager} is made. */
export interface WebhookManagerOptions {
  /** Where webhooks live. */
  repository: Repository<WebhookRecord>;
  /** Publishes `entity.*` events of committed writes (collection `webhooks`). */
  events?: ManagerEvents;
}

function check(input: WebhookInput): void {
  let url: URL | undefined;
  try {
    url = new URL(input.url);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ValidationError([{ loc: ["body", "url"], msg: "Input should be an http or https URL", type: "url_scheme" }]);
  }
  if (typeof input.filter === "string") parseFilter(input.filter);
}

/**
 * Webhooks: where events are delivered, which ones, and the secret that
 * signs them. The secret is write-only: outputs never carry it.
 */
export class WebhookManager extends Manager<WebhookRecord, typeof WebhookInSchema, typeof WebhookOutSchema> {
  /** Creates the manager over a repository. */
  constructor(options: WebhookManagerOptions) {
    super({
      repository: options.repository,
      input: WebhookInSchema,
      output: WebhookOutSchema,
      toValues: (raw, existing) => {
        const input = raw as unknown as WebhookInput;
        return {
          url: input.url,
          event_types: input.event_types ?? existing?.event_types ?? [],
          collections: input.collections ?? existing?.collections ?? [],
          filter: input.filter === undefined ? existing?.filter ?? null : input.filter,
          secret: input.secret,
          enabled: input.enabled ?? existing?.enabled ?? true,
          description: input.description === undefined ? existing?.description ?? null : input.description,
        };
      },
      toOutput: (record) => ({
        id: record.id,
        created_at: record.created_at,
        updated_at: record.updated_at,
        url: record.url,
        event_types: record.event_types,
        collections: record.collections,
        filter: record.filter,
        enabled: Boolean(record.enabled),
        description: record.description,
      }),
      hooks: {
        beforeCreate: (input) => check(input as unknown as WebhookInput),
        beforeUpdate: (input) => check(input as unknown as WebhookInput),
      },
      ...(options.events ? { events: options.events } : {}),
    });
  }
}
