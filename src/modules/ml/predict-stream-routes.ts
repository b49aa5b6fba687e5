import { type AnyElysia, Elysia } from "elysia";
import { ChapkitError, InternalError, type Problem } from "../../core/errors.ts";
import { mountOperation } from "../../http/crud/operation.ts";
import { sseResponse } from "../../http/sse.ts";
import { DataFrame } from "./engine/dataframe.ts";
import { type FeatureCollection, validateFeatureCollection } from "./engine/geojson.ts";
import { runPredictStream, type RowChunk } from "./engine/predict-stream.ts";
import { isEnsembleData } from "../models/ensemble.ts";
import { checkModelArtifact, loadTrainedModel, type MlJobDeps, withFeatures } from "./ml-jobs.ts";
import { checkPredictInput } from "./model-io.ts";
import { oneModelOf, routedModel } from "./routes.ts";
import { type PredictRequest, PredictRequestSchema } from "./schema.ts";

/** The media type of `$predict-stream`'s default answer: one JSON object per line. */
export const NDJSON = "application/x-ndjson";

function problemOf(error: unknown, instance: string): Problem {
  if (error instanceof ChapkitError) return error.toProblem(instance);
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message.trim().split("\n").pop() ?? "" : String(error);
  return new InternalError(`${name}: ${message}`).toProblem(instance);
}

function wantsEvents(request: Request): boolean {
  return /\btext\/event-stream\b/i.test(request.headers.get("accept") ?? "");
}

/** An NDJSON response fed by an iterator of row chunks; a failure ends it with a `{"$error": problem}` line. */
function ndjsonResponse(chunks: AsyncGenerator<RowChunk>, abort: AbortController, instance: string): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) return controller.close();
        controller.enqueue(encoder.encode(next.value.map((row) => JSON.stringify(row)).join("\n") + "\n"));
      } catch (error) {
        controller.enqueue(encoder.encode(JSON.stringify({ $error: problemOf(error, instance) }) + "\n"));
        controller.close();
      }
    },
    cancel() {
      abort.abort();
      // Not awaited: a runner busy on its next chunk sees the abort first.
      void chunks.return(undefined).catch(() => {});
    },
  });
  return new Response(body, { headers: { "content-type": NDJSON, "cache-control": "no-cache", "x-accel-buffering": "no" } });
}

/** An SSE response: `row` events, then `end` with the row count, or `error` with a problem. */
function eventResponse(chunks: AsyncGenerator<RowChunk>, abort: AbortController, instance: string, signal: AbortSignal): Response {
  return sseResponse(async (sink) => {
    sink.signal.addEventListener("abort", () => abort.abort(), { once: true });
    let rows = 0;
    try {
      for await (const chunk of chunks) {
        for (const row of chunk) {
          if (!sink.send({ event: "row", id: String(rows), data: row })) return;
          rows += 1;
        }
      }
      sink.send({ event: "end", data: { rows } });
    } catch (error) {
      sink.send({ event: "error", data: problemOf(error, instance) });
    }
  }, { signal });
}

/**
 * `POST {prefix}/$predict-stream`: the body of `$predict`, answered at once
 * (no job, nothing stored) with the predicted rows as they are produced:
 * NDJSON, or server-sent events with `Accept: text/event-stream`.
 */
export function predictStreamRoutes(deps: MlJobDeps, options: { prefix?: string; tags?: string[] } = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/ml";
  const app = new Elysia({ name: `chapkit:ml-predict-stream:${prefix}` });
  mountOperation(app, prefix, {
    name: "$predict-stream",
    method: "POST",
    summary: "Predict, streaming rows as they are produced",
    description:
      "Takes the body of `$predict` and answers the predicted rows as the runner produces them, one JSON object per line " +
      "(`application/x-ndjson`), or server-sent events (`row` per row, then `end` with the count) with `Accept: text/event-stream`. " +
      "Runners with `predictStream` stream chunk by chunk; others answer in one chunk. A failure after the first byte ends " +
      "the stream with a `{\"$error\": problem}` line (`error` event). Nothing is stored and no job is made.",
    body: PredictRequestSchema,
    coerceBody: false,
    checkBody: oneModelOf,
    async handler({ body, request, instance }) {
      const input = body as PredictRequest;
      const future = DataFrame.fromJSON(input.future, { loc: ["body", "future"] });
      const historic = input.historic ? DataFrame.fromJSON(input.historic, { loc: ["body", "historic"] }) : null;
      const geo: FeatureCollection | null = input.geo === undefined || input.geo === null
        ? null
        : validateFeatureCollection(input.geo, ["body", "geo"]);
      const routed = await routedModel(deps, input, request);
      const artifactId = routed ? routed.decision.version.artifact_id! : input.model_artifact_id!;
      const modelData = await checkModelArtifact(deps, artifactId);
      const abort = new AbortController();
      const loc = ["body", "future"];
      let chunks: AsyncGenerator<RowChunk>;
      if (deps.server && isEnsembleData(modelData)) {
        // An ensemble answers once its members have: one chunk.
        const server = deps.server;
        await server.checkArtifactInput(artifactId, future, loc);
        chunks = (async function* (): AsyncGenerator<RowChunk> {
          yield (await server.predictArtifact(artifactId, future, { signal: abort.signal })).records();
        })();
      } else {
        const loaded = await loadTrainedModel(deps, artifactId);
        checkPredictInput(future, loaded, loc);
        chunks = runPredictStream(deps.runner, {
          config: loaded.config,
          model: loaded.model,
          modelKey: loaded.modelKey,
          historic: historic ? withFeatures(deps, loaded, historic) : null,
          future: withFeatures(deps, loaded, future),
          geo,
          signal: abort.signal,
        });
      }
      const counted = countRows(chunks, deps);
      return wantsEvents(request)
        ? eventResponse(counted, abort, instance, request.signal)
        : ndjsonResponse(counted, abort, instance);
    },
  }, { entity: false, tags: options.tags ?? ["ml"] });
  return app as unknown as AnyElysia;
}

async function* countRows(chunks: AsyncGenerator<RowChunk>, deps: MlJobDeps): AsyncGenerator<RowChunk> {
  try {
    for await (const chunk of chunks) {
      deps.monitoring?.mlPredictRows.inc(chunk.length);
      yield chunk;
    }
  } finally {
    await chunks.return(undefined);
  }
}
