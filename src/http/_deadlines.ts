/**
 * Request deadlines without a timer per request. Requests under the same
 * timeout expire in the order they arrived, so each timeout keeps its
 * deadlines in a first-in, first-out queue watched by one timer set for the
 * oldest, which stays set while requests come and go. Ending a request only
 * marks its deadline done; done deadlines at the front are dropped as they
 * are met, so a queue holds about as many deadlines as requests are in
 * flight. A Node-style `setTimeout` and `clearTimeout` per request cost
 * Deno about 1 µs in a loop; here a request costs an object and an array slot.
 */
import { unrefTimer } from "../core/timers.ts";

/** A deadline: its callback runs once at `at` unless {@link cancelDeadline} came first. */
export interface QueuedDeadline {
  /** When it expires (`performance.now()` ms). */
  readonly at: number;
  /** Set once it expired or was cancelled. */
  done: boolean;
  /** Dropped when cancelled: a done deadline behind a slow request's must not hold its request. */
  expire: (() => void) | undefined;
  /** The queue of its timeout. */
  readonly queue: Queue;
}

/** The deadlines of one timeout, oldest first, from `head` on. */
interface Queue {
  items: QueuedDeadline[];
  head: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const queues = new Map<number, Queue>();

/** Calls `expire` once `ms` milliseconds from now, unless the returned deadline is cancelled first. */
export function addDeadline(ms: number, expire: () => void): QueuedDeadline {
  let queue = queues.get(ms);
  if (queue === undefined) queues.set(ms, queue = { items: [], head: 0, timer: undefined });
  const deadline: QueuedDeadline = { at: performance.now() + ms, done: false, expire, queue };
  dropDone(queue);
  queue.items.push(deadline);
  if (queue.timer === undefined) arm(queue, deadline.at);
  return deadline;
}

/** Cancels a deadline; its callback will not run. */
export function cancelDeadline(deadline: QueuedDeadline): void {
  deadline.done = true;
  deadline.expire = undefined;
  const queue = deadline.queue;
  if (queue.items[queue.head] === deadline) dropDone(queue);
}

/** Drops the done deadlines at the front; the array is compacted once most of it is behind the head. */
function dropDone(queue: Queue): void {
  const items = queue.items;
  let head = queue.head;
  while (head < items.length && items[head]!.done) head++;
  if (head === items.length) {
    items.length = 0;
    head = 0;
  } else if (head > 1024 && head * 2 > items.length) {
    items.splice(0, head);
    head = 0;
  }
  queue.head = head;
}

/**
 * Sets the queue's timer. It stays set when the queue empties (a timer set and
 * cleared per request is the cost this module saves: on Deno most requests end
 * before the next begins) and fires at most once per timeout period; it is
 * unref'd, so it keeps no process alive (a listening server does).
 */
function arm(queue: Queue, at: number): void {
  // A deadline added while expired ones ran may have set one already.
  if (queue.timer !== undefined) clearTimeout(queue.timer);
  queue.timer = setTimeout(() => fire(queue), Math.max(0, at - performance.now()));
  unrefTimer(queue.timer);
}

/** The timer fired: expired deadlines run, oldest first, and the timer is set again for the next live one. */
function fire(queue: Queue): void {
  queue.timer = undefined;
  const now = performance.now();
  for (;;) {
    dropDone(queue);
    const next = queue.items[queue.head];
    if (next === undefined) return;
    if (next.at > now) return arm(queue, next.at);
    const expire = next.expire!;
    next.done = true;
    next.expire = undefined;
    queue.head++;
    expire();
  }
}
