// `$validate` of the chap profile: dry-run diagnostics with chapkit 1.x's codes (contract-chapcore §8.4).
import { NotFoundError } from "../../core/errors.ts";
import { modelFromWorkspace } from "./engine/memory-workspace.ts";
import { isWorkspaceRunner } from "./engine/runner.ts";
import { unzipFiles } from "./engine/workspace.ts";
import { isPayloadPlaceholder } from "../artifact/payload.ts";
import type { ArtifactOut } from "../artifact/schema.ts";
import { type ChapMlDeps, checkPredictionPeriods, TRAINING_TYPE } from "./chap-jobs.ts";
import type { Diagnostic, ValidateRequest } from "./chap-schema.ts";

type JsonObject = Record<string, unknown>;

function finding(severity: Diagnostic["severity"], code: string, message: string, field: string | null): Diagnostic {
  return { severity, code, message, field };
}

async function configFindings(deps: ChapMlDeps, configId: string, out: Diagnostic[]): Promise<void> {
  let data: JsonObject;
  try {
    data = (await deps.configs.get(configId)).data;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    out.push(finding("error", "config_not_found", `Config ${configId} not found`, "config_id"));
    return;
  }
  try {
    checkPredictionPeriods(data, deps.bounds);
  } catch (error) {
    out.push(finding("error", "prediction_periods_out_of_bounds", (error as Error).message, "prediction_periods"));
  }
}

function rowCount(frame: { data?: unknown[] } | undefined): number {
  return Array.isArray(frame?.data) ? frame.data.length : 0;
}

async function artifactOf(deps: ChapMlDeps, id: string): Promise<ArtifactOut | null> {
  try {
    return await deps.artifacts.get(id);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

async function workspaceFindings(deps: ChapMlDeps, id: string, data: JsonObject, out: Diagnostic[]): Promise<void> {
  if (data.content_type !== "application/zip" || !isPayloadPlaceholder(data.content)) return;
  const zip = (await deps.artifacts.download(id)).bytes;
  try {
    unzipFiles(zip);
  } catch (error) {
    out.push(finding("error", "training_workspace_corrupted", (error as Error).message, "artifact_id"));
    return;
  }
  if (isWorkspaceRunner(deps.runner)) return;
  try {
    modelFromWorkspace(zip);
  } catch (error) {
    const message = (error as Error).message;
    const code = message.includes("no model file") ? "model_pickle_missing" : "model_pickle_corrupted";
    out.push(finding("error", code, message, "artifact_id"));
  }
}

async function predictFindings(deps: ChapMlDeps, request: ValidateRequest, out: Diagnostic[]): Promise<void> {
  const id = request.artifact_id ?? "";
  const artifact = await artifactOf(deps, id);
  const data = artifact?.data as JsonObject | null | undefined;
  if (!artifact) {
    out.push(finding("error", "training_artifact_not_found", `Training artifact ${id} not found`, "artifact_id"));
  } else if (typeof data !== "object" || data === null || Array.isArray(data) || data.type !== TRAINING_TYPE) {
    out.push(finding("error", "invalid_training_artifact", `Artifact ${id} is not a training artifact`, "artifact_id"));
  } else {
    const metadata = (data.metadata ?? {}) as JsonObject;
    if (metadata.status === "failed") {
      out.push(finding(
        "error",
        "training_artifact_failed",
        `Training artifact ${id} failed (exit code ${metadata.exit_code})`,
        "artifact_id",
      ));
    } else {
      await configFindings(deps, String(metadata.config_id), out);
      if (out.length === 0) await workspaceFindings(deps, id, data, out);
    }
  }
  if (rowCount(request.historic) === 0) out.push(finding("warning", "historic_empty", "Historic data has no rows", "historic"));
  if (rowCount(request.future) === 0) out.push(finding("error", "future_empty", "Future data has no rows", "future"));
}

/** The diagnostics of a `$validate` body; `valid` means no error-severity finding. */
export async function validateRequest(deps: ChapMlDeps, request: ValidateRequest): Promise<{ valid: boolean; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  if (request.type === "train") {
    if (request.config_id === undefined) diagnostics.push(finding("error", "config_not_found", "config_id is required", "config_id"));
    else await configFindings(deps, request.config_id, diagnostics);
    if (rowCount(request.data) === 0) diagnostics.push(finding("error", "data_empty", "Training data has no rows", "data"));
  } else {
    await predictFindings(deps, request, diagnostics);
  }
  return { valid: !diagnostics.some((item) => item.severity === "error"), diagnostics };
}
