/**
 * Streaming prediction: rows handed on as a runner produces them.
 *
 * @module
 */
import { type Cell, DataFrame } from "./dataframe.ts";
import type { ModelRunner, PredictContext, PredictedRows } from "./runner.ts";

/** A chunk of predicted rows, each an object keyed by column name. */
export type RowChunk = Record<string, Cell>[];

function rowsOf(item: PredictedRows): RowChunk {
  if (item instanceof DataFrame) return item.records();
  const candidate = item as { columns?: unknown; data?: unknown };
  if (Array.isArray(candidate.columns) && Array.isArray(candidate.data)) {
    return DataFrame.fromJSON(item, { loc: ["predictions"] }).records();
  }
  return [item as Record<string, Cell>];
}

/**
 * Runs a prediction between `onInit` and `onCleanup` and yields its rows in
 * chunks as the runner produces them: a runner with `predictStream` chunk by
 * chunk, any other in one chunk when `predict` returns. Leaving the loop
 * early (a client gone) ends the runner's iteration and still runs `onCleanup`.
 *
 * @example
 * ```ts ignore
 * for await (const rows of runPredictStream(runner, ctx)) send(rows);
 * ```
 */
export async function* runPredictStream<C>(runner: ModelRunner<C>, ctx: PredictContext<C>): AsyncGenerator<RowChunk> {
  ctx.signal.throwIfAborted();
  await runner.onInit?.();
  try {
    if (runner.predictStream) {
      for await (const item of runner.predictStream(ctx)) {
        ctx.signal.throwIfAborted();
        const rows = rowsOf(item);
        if (rows.length > 0) yield rows;
      }
      return;
    }
    const result: unknown = await runner.predict(ctx);
    yield rowsOf(result instanceof DataFrame ? result : DataFrame.fromJSON(result, { loc: ["predictions"] }));
  } finally {
    await runner.onCleanup?.();
  }
}
