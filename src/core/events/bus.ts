import type { Logger } from "../logging.ts";
import { newUlid } from "../ulid.ts";
import { matchesFilter } from "./match.ts";
import type { CommitHooks, EventInput, EventJournal, EventSelector, ServiceEvent } from "./types.ts";

/** How an {@link EventBus} is made. */
export interface EventBusOptions {
  /** Transaction awareness: events published inside a transaction wait for its commit (dropped on rollback). */
  hooks?: CommitHooks & {
    /** Whether the caller runs in a transaction (a failed journal write then fails the transaction). */
    inTransaction(): boolean;
  };
  /** Carries events to the other instances (the PostgreSQL outbox); absent: this process only. */
  journal?: EventJournal;
  /** Events kept for resuming subscribers (`Last-Event-ID`), newest last (default 1000). */
  replayLimit?: number;
  /** Collections that publish nothing. */
  exclude?: readonly string[];
  /** Where failing subscribers and journal writes are reported. */
  logger?: Logger;
}

/** Stops a subscription. */
export type Unsubscribe = () => void;

interface Subscriber {
  selector: EventSelector;
  handler: (event: ServiceEvent) => void;
  /** Keeps events in order while an asynchronous `allow` decides. */
  chain: Promise<void>;
}

function typeSelected(types: readonly string[] | undefined, type: string): boolean {
  if (!types || types.length === 0) return true;
  return types.some((wanted) => wanted === type || (wanted.endsWith(".*") && type.startsWith(wanted.slice(0, -1))));
}

/** Whether an event passes a selector's synchronous criteria (types, collections, filter). */
export function eventSelected(selector: EventSelector, event: ServiceEvent): boolean {
  if (!typeSelected(selector.types, event.type)) return false;
  if (selector.collections && selector.collections.length > 0 && !selector.collections.includes(event.data.collection)) {
    return false;
  }
  return selector.filter === undefined || matchesFilter(event.data.entity, selector.filter);
}

/**
 * The service's event bus: every committed entity change, job state change
 * and model event is published here once, and SSE, WebSocket, webhooks,
 * GraphQL subscriptions and a module's own code subscribe with a selector.
 * Inside a transaction an event is held until the commit and dropped on
 * rollback; with a journal (PostgreSQL) it also reaches every other instance.
 * The last `replayLimit` events are kept so a subscriber can resume.
 *
 * @example
 * ```ts
 * import { EventBus } from "./bus.ts";
 * const bus = new EventBus();
 * const seen: string[] = [];
 * const stop = bus.subscribe({ types: ["entity.*"], collections: ["notes"] }, (event) => seen.push(event.data.id));
 * await bus.publish({ type: "entity.created", collection: "notes", id: "01K79YAHJ7BR4E87VVTG8FNBMA", entity: { title: "hi" } });
 * stop();
 * ```
 */
export class EventBus {
  readonly #hooks: EventBusOptions["hooks"];
  readonly #journal: EventJournal | undefined;
  readonly #logger: Logger | undefined;
  readonly #replayLimit: number;
  readonly #excluded: Set<string>;
  readonly #subscribers = new Set<Subscriber>();
  /** The kept events: a ring of at most `replayLimit`, the oldest at `#oldest` once full. */
  readonly #recent: ServiceEvent[] = [];
  #oldest = 0;
  /**
   * Local deliveries in publication order: a publication outside a transaction
   * takes its place when published and is delivered once its journal entry is
   * written; a later delivery (a commit's included) waits behind it.
   */
  readonly #queue: { events: readonly ServiceEvent[] | undefined }[] = [];
  #stopJournal: (() => Promise<void>) | undefined;

  /** Creates a bus; without options it is in-process, outside transactions. */
  constructor(options: EventBusOptions = {}) {
    this.#hooks = options.hooks;
    this.#journal = options.journal;
    this.#logger = options.logger;
    this.#replayLimit = Math.max(0, Math.floor(options.replayLimit ?? 1000));
    this.#excluded = new Set(options.exclude ?? []);
  }

  /** Stops publishing events of a collection (per-collection opt-out). */
  exclude(collection: string): void {
    this.#excluded.add(collection);
  }

  /** Whether events of this collection are published. */
  publishes(collection: string): boolean {
    return !this.#excluded.has(collection);
  }

  /** Publishes one event (see {@link EventBus.publishMany}). */
  publish<T>(input: EventInput<T>): Promise<void> {
    return this.publishMany([input]);
  }

  /**
   * Publishes events in order. Inside a transaction they are journaled in
   * it and delivered after its commit; a rollback drops them. Outside one
   * they are delivered at once; a failed journal write is logged, not thrown,
   * since the change it reports is already committed.
   */
  async publishMany(inputs: readonly EventInput[]): Promise<void> {
    const events: ServiceEvent[] = [];
    const timestamp = new Date().toISOString();
    for (const input of inputs) {
      if (this.#excluded.has(input.collection)) continue;
      events.push({
        id: newUlid(),
        type: input.type,
        timestamp,
        data: { collection: input.collection, id: input.id, entity: input.entity },
      });
    }
    if (events.length === 0) return;
    if (this.#journal) {
      // Outside a transaction the journal write is the only wait: hold this place meanwhile.
      const place = this.#hooks?.inTransaction() ? undefined : { events: undefined as readonly ServiceEvent[] | undefined };
      if (place) this.#queue.push(place);
      try {
        await this.#journal.append(events);
      } catch (error) {
        if (!place) throw error;
        this.#logger?.error("events.journal.failed", { error, count: events.length });
      }
      if (place) {
        place.events = events;
        this.#flush();
        return;
      }
    }
    const deliver = (): void => this.#deliverLocal(events);
    if (!this.#hooks?.afterCommit(deliver)) deliver();
  }

  /** Delivers at once unless an earlier publication is still writing its journal entry. */
  #deliverLocal(events: readonly ServiceEvent[]): void {
    if (this.#queue.length === 0) {
      this.#dispatch(events, true);
      return;
    }
    this.#queue.push({ events });
    this.#flush();
  }

  /** Delivers the publications at the head of the queue whose journal entries are written. */
  #flush(): void {
    const queue = this.#queue;
    while (queue.length > 0 && queue[0]!.events !== undefined) this.#dispatch(queue.shift()!.events!, true);
  }

  /**
   * Calls `handler` for every later event the selector accepts, in
   * publication order. A throwing handler is logged and stays subscribed.
   */
  subscribe(selector: EventSelector, handler: (event: ServiceEvent) => void): Unsubscribe {
    const subscriber: Subscriber = { selector, handler, chain: Promise.resolve() };
    this.#subscribers.add(subscriber);
    return () => {
      this.#subscribers.delete(subscriber);
    };
  }

  /**
   * The kept events published after the one with `lastId`, oldest first;
   * undefined when `lastId` is no longer (or never was) kept, so the caller
   * knows events may have been missed.
   */
  since(lastId: string): ServiceEvent[] | undefined {
    const recent = this.#recent;
    const kept = recent.length;
    for (let back = kept - 1; back >= 0; back--) {
      if (recent[(this.#oldest + back) % kept]!.id !== lastId) continue;
      const after: ServiceEvent[] = [];
      for (let next = back + 1; next < kept; next++) after.push(recent[(this.#oldest + next) % kept]!);
      return after;
    }
    return undefined;
  }

  /** Whether the selector (including its `allow`) accepts the event. */
  async accepts(selector: EventSelector, event: ServiceEvent): Promise<boolean> {
    if (!eventSelected(selector, event)) return false;
    if (!selector.allow) return true;
    try {
      return await selector.allow(event);
    } catch {
      return false;
    }
  }

  /** Starts receiving other instances' events through the journal (no-op without one). */
  async start(): Promise<void> {
    if (!this.#journal || this.#stopJournal) return;
    this.#stopJournal = await this.#journal.listen((events) => this.#dispatch(events, false));
  }

  /** Stops receiving other instances' events and drops every subscriber. */
  async stop(): Promise<void> {
    const stop = this.#stopJournal;
    this.#stopJournal = undefined;
    this.#subscribers.clear();
    await stop?.();
  }

  #dispatch(events: readonly ServiceEvent[], local: boolean): void {
    for (const event of events) {
      this.#keep(event);
      for (const subscriber of this.#subscribers) {
        if (local || !subscriber.selector.local) this.#offer(subscriber, event);
      }
    }
  }

  /** Keeps the event for {@link since}, over the oldest once `replayLimit` are kept (no array shift per event). */
  #keep(event: ServiceEvent): void {
    const limit = this.#replayLimit;
    if (limit === 0) return;
    if (this.#recent.length < limit) {
      this.#recent.push(event);
      return;
    }
    this.#recent[this.#oldest] = event;
    this.#oldest = (this.#oldest + 1) % limit;
  }

  #offer(subscriber: Subscriber, event: ServiceEvent): void {
    const { selector } = subscriber;
    if (!eventSelected(selector, event)) return;
    if (!selector.allow) {
      this.#call(subscriber, event);
      return;
    }
    const allow = selector.allow;
    subscriber.chain = subscriber.chain.then(async () => {
      let allowed = false;
      try {
        allowed = await allow(event);
      } catch {
        allowed = false;
      }
      if (allowed && this.#subscribers.has(subscriber)) this.#call(subscriber, event);
    });
  }

  #call(subscriber: Subscriber, event: ServiceEvent): void {
    try {
      subscriber.handler(event);
    } catch (error) {
      this.#logger?.error("events.subscriber.failed", { error, type: event.type, event_id: event.id });
    }
  }
}
