import { createHash } from "node:crypto";
import { ValidationError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import type { Driver } from "../../db/driver.ts";
import type { IncomingMessage, MessageQueue, QueueConsumer } from "../../integrations/queues/types.ts";
import type { EnqueueOptions, JobRunner } from "../jobs/types.ts";

/** One source: a broker's messages become jobs of one handler. */
export interface QueueSource {
  /** Unique name; receipts are kept per source, so keep it stable across deploys. */
  name: string;
  /** The broker, configured with what to consume (a queue, a durable consumer, a client id). */
  queue: MessageQueue;
  /** The job handler each message is enqueued for (registered with `withJobs({ handlers })` or a plugin). */
  job: string;
  /** The job's payload from a message (default: the body parsed as JSON); a throw marks the message unusable. */
  payload?: (message: IncomingMessage) => unknown;
  /** Enqueue options of the jobs (priority, attempts, back-off…). */
  enqueue?: Omit<EnqueueOptions, "dedupKey" | "dependsOn">;
}

/** What happened to one delivered message. */
export type ReceiptOutcome = "enqueued" | "duplicate" | "rejected";

/** How {@link QueueSources} is made. */
export interface QueueSourcesOptions {
  /** The sources (names unique). */
  sources: readonly QueueSource[];
  /** The store holding the receipts and the jobs. */
  db: Driver;
  /** The job queue. */
  jobs: JobRunner;
  /** Where rejected messages are reported. */
  logger?: Logger;
}

function messageIdOf(message: IncomingMessage): string {
  // Without a broker message id, the same bytes count as the same message.
  return message.id ?? `sha256:${createHash("sha256").update(message.body).digest("hex")}`;
}

/**
 * Message sources: each delivered message is recorded as a receipt (unique
 * per source and message id) and enqueued as a job in one transaction, and
 * acknowledged only after it committed. A redelivered message finds its
 * receipt and is acknowledged without a second job; a message whose payload
 * the job refuses is recorded with the error and acknowledged (retrying it
 * would fail the same way).
 */
export class QueueSources {
  readonly #options: QueueSourcesOptions;
  readonly #consumers: QueueConsumer[] = [];

  /** @throws {TypeError} on a duplicate source name. */
  constructor(options: QueueSourcesOptions) {
    const names = new Set<string>();
    for (const source of options.sources) {
      if (names.has(source.name)) throw new TypeError(`Queue source "${source.name}" is configured twice`);
      names.add(source.name);
    }
    this.#options = options;
  }

  /** Starts every source's consumer. */
  async start(): Promise<void> {
    for (const source of this.#options.sources) {
      this.#consumers.push(await source.queue.consume((message) => this.receive(source, message).then(() => undefined)));
    }
  }

  /**
   * Handles one delivery (what each consumer calls): the receipt and the job
   * in one transaction. Resolves with what it did; rejects on a store
   * failure, so the broker delivers the message again.
   */
  async receive(source: QueueSource, message: IncomingMessage): Promise<ReceiptOutcome> {
    const { db, jobs } = this.#options;
    const messageId = messageIdOf(message);
    let payload: unknown;
    let problem: string | null = null;
    try {
      payload = source.payload ? source.payload(message) : JSON.parse(new TextDecoder().decode(message.body));
    } catch (error) {
      problem = `Unreadable message: ${error instanceof Error ? error.message : String(error)}`;
    }
    const outcome = await db.transaction(async () => {
      const now = new Date().toISOString();
      const { changes } = await db.exec(
        "INSERT INTO chapkit_queue_receipts (source, message_id, received_at, job_id, error) VALUES (?, ?, ?, NULL, ?) ON CONFLICT (source, message_id) DO NOTHING",
        [source.name, messageId, now, problem],
      );
      if (changes === 0) return "duplicate" as const;
      if (problem !== null) return "rejected" as const;
      try {
        const { record } = await jobs.enqueue(source.job, payload, source.enqueue ?? {});
        await db.exec("UPDATE chapkit_queue_receipts SET job_id = ? WHERE source = ? AND message_id = ?", [record.id, source.name, messageId]);
        return "enqueued" as const;
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        problem = `Refused by job ${source.job}: ${error.message}`;
        await db.exec("UPDATE chapkit_queue_receipts SET error = ? WHERE source = ? AND message_id = ?", [problem, source.name, messageId]);
        return "rejected" as const;
      }
    });
    if (outcome === "rejected") this.#options.logger?.warn("queues.message_rejected", { source: source.name, message_id: messageId, error: problem });
    return outcome;
  }

  /** Removes receipts older than `before` (ISO time); a message redelivered after that would make a job again. */
  async prune(before: string): Promise<number> {
    const { changes } = await this.#options.db.exec("DELETE FROM chapkit_queue_receipts WHERE received_at < ?", [before]);
    return changes;
  }

  /** Stops every consumer. */
  async stop(): Promise<void> {
    await Promise.all(this.#consumers.splice(0).map((consumer) => consumer.stop()));
  }
}
