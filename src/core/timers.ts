/**
 * Timer helpers that behave the same on Bun, Deno and Node.
 *
 * @module
 */

/**
 * Lets a pending timer not keep the process alive: `unref()` on the timer
 * objects of Bun, Node and Deno's Node-style timers, `Deno.unrefTimer` on a
 * Deno timer id.
 *
 * @example
 * ```ts
 * import { unrefTimer } from "./timers.ts";
 * const timer = setTimeout(() => {}, 60_000);
 * unrefTimer(timer);
 * clearTimeout(timer);
 * ```
 */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && typeof (timer as { unref?: unknown }).unref === "function") {
    (timer as { unref(): void }).unref();
    return;
  }
  if (typeof timer === "number") (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer);
}
