import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { type FieldError, UnsupportedMediaTypeError, ValidationError } from "../../core/errors.ts";
import { UlidSchema } from "../../core/schema.ts";
import { newUlid } from "../../core/ulid.ts";
import { validateValue } from "../../core/validation.ts";
import { addRoute } from "../../http/_route.ts";
import { limitedBodyStream } from "../../http/body-limit.ts";
import type { ResponseSet } from "../../http/crud/operation.ts";
import { routeDetail } from "../../http/route-doc.ts";
import { RowChecker, type RowFormat, rowFormatOf } from "./engine/row-stream.ts";
import type { JobRunner } from "../jobs/types.ts";
import { locate } from "../artifact/routes.ts";
import { type BatchInput, batchPredictJob } from "./batch-predict.ts";
import { checkModelArtifact, type MlJobDeps } from "./ml-jobs.ts";
import { monitored, oneModelOf, routedModel } from "./routes.ts";
import type { PredictRequest } from "./schema.ts";

const ModelRef = {
  model_artifact_id: Type.Optional(UlidSchema),
  model: Type.Optional(Type.String({
    pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(@[A-Za-z0-9][A-Za-z0-9_.+-]{0,99})?$",
    description: "A registered model: `name`, `name@alias` or `name@1.2.0`",
  })),
  routing_key: Type.Optional(Type.String({ maxLength: 200 })),
  format: Type.Optional(Type.Union([Type.Literal("csv"), Type.Literal("ndjson")], { description: "Result format (default: the input's)" })),
  chunk_rows: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000, description: "Rows predicted at a time" })),
};

/** Query of `$batch-predict` with a CSV or NDJSON body. */
export const BatchPredictQuerySchema: TObject = Type.Object(ModelRef, { title: "BatchPredictQuery" });

/** JSON body of `$batch-predict` that names a stored input instead of uploading one. */
export const BatchPredictRequestSchema: TObject = Type.Object({
  ...ModelRef,
  input_artifact_id: UlidSchema,
}, { title: "BatchPredictRequest", additionalProperties: false });

/** 202 answer of `$batch-predict`. */
export const BatchPredictResponseSchema: TObject = Type.Object({
  job_id: UlidSchema,
  result_artifact_id: UlidSchema,
  rows: Type.Union([Type.Integer(), Type.Null()], { description: "Data rows of an upload (null for an input artifact)" }),
  message: Type.String(),
}, { title: "BatchPredictResponse" });

interface BatchOptions {
  model_artifact_id?: string;
  model?: string;
  routing_key?: string;
  format?: RowFormat;
  chunk_rows?: number;
  input_artifact_id?: string;
}

/** A CSV or NDJSON body, streamed as it arrives. */
class TableBody {
  constructor(readonly stream: ReadableStream<Uint8Array>, readonly format: RowFormat, readonly contentType: string) {}
}

function tableBody({ request }: { request: Request }): TableBody | undefined {
  const contentType = request.headers.get("content-type") ?? "";
  const format = rowFormatOf(contentType);
  return format ? new TableBody(limitedBodyStream(request), format, contentType.split(";")[0]!.trim().toLowerCase()) : undefined;
}

function checked(options: BatchOptions, loc: string): BatchOptions {
  const errors = oneModelOf(options as Record<string, unknown>).map((error): FieldError => ({ ...error, loc: [loc, ...error.loc.slice(1)] }));
  if (errors.length > 0) throw new ValidationError(errors);
  return options;
}

const stop = Symbol("stop");

/** Streams an upload into the content store, checking its rows on the way (422 listing the bad ones). */
async function storeUpload(deps: MlJobDeps, body: TableBody): Promise<BatchInput> {
  const checker = new RowChecker(body.format);
  const checking = body.stream.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      checker.push(chunk);
      if (checker.full) throw stop;
      controller.enqueue(chunk);
    },
    flush() {
      checker.end();
      if (checker.errors.length > 0) throw stop;
    },
  }));
  try {
    const stored = await deps.artifacts.storeContent(checking, body.contentType);
    return { digest: stored.digest, size: stored.size, format: body.format, contentType: body.contentType, sourceArtifactId: null, rows: checker.rows };
  } catch (error) {
    if (error === stop || checker.errors.length > 0) {
      throw new ValidationError(checker.errors, `The upload is not a valid ${body.format === "csv" ? "CSV" : "NDJSON"} table`);
    }
    throw error;
  }
}

/** The stored payload of an input artifact, checked to be CSV or NDJSON. */
async function artifactInput(deps: MlJobDeps, id: string): Promise<BatchInput> {
  const loc = ["body", "input_artifact_id"];
  const info = await deps.artifacts.payloadInfo(id);
  if (!info) throw new ValidationError([{ loc, msg: `Artifact ${id} has no binary content to predict from`, type: "value_error" }]);
  const format = rowFormatOf(info.contentType);
  if (!format) {
    throw new ValidationError([{ loc, msg: `Artifact ${id} holds ${info.contentType}, not text/csv or application/x-ndjson`, type: "value_error" }]);
  }
  let digest = info.digest;
  if (!(await deps.artifacts.content.info(digest))) {
    // A payload written before content addressing: put it in the content store once.
    digest = (await deps.artifacts.storeContent((await deps.artifacts.download(id)).bytes, info.contentType)).digest;
  }
  return { digest, size: info.size, format, contentType: info.contentType, sourceArtifactId: id, rows: null };
}

interface RouteContext {
  body: unknown;
  query: Record<string, unknown>;
  request: Request;
  set: ResponseSet;
}

/**
 * `POST {prefix}/$batch-predict`: a CSV or NDJSON upload (the model in the
 * query), or a JSON body naming an input artifact; predicted in chunks by a
 * job whose result is a downloadable artifact under the model.
 */
export function batchPredictRoutes(deps: MlJobDeps, jobs: JobRunner, options: { prefix?: string; tags?: string[] } = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/ml";
  const path = `${prefix}/$batch-predict`;
  const app = new Elysia({ name: `chapkit:ml-batch-predict:${prefix}` });
  addRoute(app, "POST", path, async ({ body, query, request, set }: RouteContext) => {
    const upload = body instanceof TableBody ? body : undefined;
    const plain = typeof body === "object" && body !== null && Object.getPrototypeOf(body) === Object.prototype;
    if (!upload && !plain) {
      throw new UnsupportedMediaTypeError(
        "Upload the rows as text/csv or application/x-ndjson (the model in the query), or send application/json naming input_artifact_id",
      );
    }
    const plan: BatchOptions = upload
      ? checked(validateValue<BatchOptions>(BatchPredictQuerySchema, query, { loc: ["query"] }), "query")
      : checked(validateValue<BatchOptions>(BatchPredictRequestSchema, body, { loc: ["body"], coerce: false }), "body");
    const routed = await routedModel(deps, plan as PredictRequest, request);
    const modelArtifactId = routed ? routed.decision.version.artifact_id! : plan.model_artifact_id!;
    await checkModelArtifact(deps, modelArtifactId);
    const input = upload ? await storeUpload(deps, upload) : await artifactInput(deps, plan.input_artifact_id!).catch((error) =>
      Promise.reject(locate(error, path))
    );
    // Held from now until the job is done with it (the job releases it).
    await deps.artifacts.content.retain(input.digest);
    const resultArtifactId = newUlid();
    let jobId: string;
    try {
      jobId = await jobs.submit(monitored(deps, "ml.batch_predict", batchPredictJob(deps, {
        modelArtifactId,
        resultArtifactId,
        input,
        output: plan.format ?? input.format,
        chunkRows: plan.chunk_rows ?? 10_000,
        ...(routed ? { modelName: routed.decision.version.name, modelVersion: routed.decision.version.version } : {}),
      })));
    } catch (error) {
      await deps.artifacts.content.release(input.digest);
      throw error;
    }
    set.status = 202;
    return {
      job_id: jobId,
      result_artifact_id: resultArtifactId,
      rows: input.rows,
      message: `Batch prediction job submitted. Job ID: ${jobId}`,
    };
  }, {
    parse: [tableBody],
    detail: routeDetail({
      summary: "Batch prediction",
      description:
        "Predicts every row of a large table in chunks, through the job queue with progress. Upload the rows as `text/csv` " +
        "(a header row) or `application/x-ndjson` (one object per line), streamed and checked as they arrive, with the " +
        "model in the query; or send JSON naming `input_artifact_id`, an artifact holding such a payload. The job writes " +
        "the result (`format`: csv or ndjson, default the input's) as a child artifact of the model " +
        "(`result_artifact_id`, allocated now), downloaded with `$download`.",
      tags: options.tags ?? ["ml"],
      query: BatchPredictQuerySchema,
      body: BatchPredictRequestSchema,
      response: BatchPredictResponseSchema,
      status: 202,
    }),
  });
  return app as unknown as AnyElysia;
}
