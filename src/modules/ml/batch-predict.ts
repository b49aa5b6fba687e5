import type { JobContext, JobFunction } from "../jobs/types.ts";
import { readFrames, ROW_MEDIA_TYPES, type RowFormat, RowWriter } from "./engine/row-stream.ts";
import type { DataFrame } from "./engine/dataframe.ts";
import { PAYLOAD_MARKER } from "../artifact/payload.ts";
import { isEnsembleData } from "../models/ensemble.ts";
import type { LineageInput } from "./lineage-store.ts";
import { loadTrainedModel, type MlJobDeps, predictLoaded } from "./ml-jobs.ts";
import { checkPredictInput } from "./model-io.ts";

/** The input of a batch prediction: content already stored (an upload, or an artifact's payload). */
export interface BatchInput {
  /** Hex SHA-256 of the input bytes in the content store. */
  digest: string;
  /** Size of the input bytes. */
  size: number;
  /** How the input is written. */
  format: RowFormat;
  /** The media type it was stored with. */
  contentType: string;
  /** The artifact whose payload it is, when it came from one. */
  sourceArtifactId: string | null;
  /** Data rows, when counted on upload. */
  rows: number | null;
}

/** What a batch prediction job does. */
export interface BatchPredictPlan {
  modelArtifactId: string;
  /** Allocated at submission, answered in the 202. */
  resultArtifactId: string;
  input: BatchInput;
  /** Format of the result (default: the input's). */
  output: RowFormat;
  /** Rows predicted at a time. */
  chunkRows: number;
  /** The registry version the model was chosen as, when it was named by `model`. */
  modelName?: string;
  modelVersion?: string;
}

const encoder = new TextEncoder();

/**
 * The batch prediction job: reads the stored input as a stream, predicts
 * `chunkRows` rows at a time, and streams the result into the content store
 * as it goes (memory holds one chunk), then stores the result artifact
 * under the model (`ml_type: "batch_prediction"`, downloadable with
 * `$download`) and its lineage. Progress is the share of input bytes read.
 */
export function batchPredictJob(deps: MlJobDeps, plan: BatchPredictPlan): JobFunction {
  return async ({ signal, jobId, progress }: JobContext): Promise<string> => {
    const content = deps.artifacts.content;
    try {
      const modelData = (await deps.artifacts.get(plan.modelArtifactId)).data;
      const ensemble = deps.server && isEnsembleData(modelData) ? deps.server : undefined;
      const loaded = ensemble ? undefined : await loadTrainedModel(deps, plan.modelArtifactId);
      const config = loaded ? await deps.lineage?.storeInputs({ config: loaded.config }) : [];
      // Each chunk is checked against what the model declares and predicted the way $predict does
      // (feature set, declared outputs; an ensemble through its members).
      const predict = async (frame: DataFrame, firstRow: number): Promise<DataFrame> => {
        const loc = ["input", "rows", firstRow];
        if (ensemble) {
          await ensemble.checkArtifactInput(plan.modelArtifactId, frame, loc);
          return await ensemble.predictArtifact(plan.modelArtifactId, frame, { signal });
        }
        checkPredictInput(frame, loaded!, loc);
        return await predictLoaded(deps, loaded!, { future: frame, historic: null, geo: null, signal });
      };
      const source = await content.stream(plan.input.digest);
      const writer = new RowWriter(plan.output);
      const chunks = readFrames(source, plan.input.format, { chunkRows: plan.chunkRows, signal });
      let rows = 0;
      let columns: readonly string[] = [];
      const total = Math.max(1, plan.input.size);
      const output = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await chunks.next();
          if (next.done) {
            const tail = writer.end(columns);
            if (tail) controller.enqueue(encoder.encode(tail));
            controller.close();
            return;
          }
          const { frame, bytesRead, firstRow } = next.value;
          const predictions = await predict(frame, firstRow);
          rows += predictions.rowCount;
          columns = predictions.columns;
          deps.monitoring?.mlPredictRows.inc(predictions.rowCount);
          controller.enqueue(encoder.encode(writer.write(predictions)));
          void progress(Math.min(1, bytesRead / total), `${rows} rows predicted`).catch(() => {});
        },
        async cancel() {
          await chunks.return(undefined).catch(() => {});
        },
      });
      const contentType = ROW_MEDIA_TYPES[plan.output];
      const stored = await deps.artifacts.storeContent(output, contentType);
      signal.throwIfAborted();
      const artifact = await deps.artifacts.create({
        id: plan.resultArtifactId,
        parent_id: plan.modelArtifactId,
        data: {
          ml_type: "batch_prediction",
          model_artifact_id: plan.modelArtifactId,
          config_id: loaded?.configId ?? null,
          ...(plan.modelName ? { model_name: plan.modelName, model_version: plan.modelVersion ?? null } : {}),
          rows,
          format: plan.output,
          input: { digest: `sha256:${plan.input.digest}`, size: plan.input.size, content_type: plan.input.contentType, rows: plan.input.rows },
          content: PAYLOAD_MARKER,
        },
      }, stored);
      const input: LineageInput = {
        role: "input",
        digest: `sha256:${plan.input.digest}`,
        size: plan.input.size,
        content_type: plan.input.contentType,
        source_artifact_id: plan.input.sourceArtifactId,
      };
      await deps.lineage?.record({
        artifact_id: artifact.id,
        kind: "batch_prediction",
        model_artifact_id: plan.modelArtifactId,
        config_id: loaded?.configId ?? null,
        model_name: plan.modelName ?? null,
        model_version: plan.modelVersion ?? null,
        job_id: jobId,
        inputs: [input, ...(config ?? [])],
      });
      await progress(1, `${rows} rows predicted`).catch(() => {});
      await deps.events?.publish({
        type: "ml.predicted",
        collection: "artifacts",
        id: artifact.id,
        entity: {
          prediction_artifact_id: artifact.id,
          model_artifact_id: plan.modelArtifactId,
          model_name: plan.modelName ?? null,
          model_version: plan.modelVersion ?? null,
          rows,
          batch: true,
        },
      });
      return artifact.id;
    } finally {
      // The submission held the input until the job was done with it; lineage holds it from now on.
      await content.release(plan.input.digest);
    }
  };
}
