// Pipeline runs as clients see them: each step's job state joined to its stored outcome.
import type { Driver } from "../../db/driver.ts";
import type { SqlRepository } from "../../db/repository.ts";
import type { JobRecord, JobRunner } from "../jobs/types.ts";
import type { PipelineRunView, PipelineStepView } from "./runner.ts";
import { PIPELINE_STEPS, type PipelineRunRecord, type PipelineStepName, stepsOf, type StoredStep } from "./store.ts";

/** What {@link runViews} reads (and, for a run whose step job broke on its own, writes). */
export interface ViewSources {
  db: Driver;
  repository: SqlRepository<PipelineRunRecord>;
  jobs: JobRunner;
}

function job(jobs: JobRunner, id: string): Promise<JobRecord | null> {
  return jobs.get(id).catch(() => null);
}

async function stepView(jobs: JobRunner, name: PipelineStepName, stored: StoredStep | undefined): Promise<PipelineStepView> {
  const record = stored?.job_id ? await job(jobs, stored.job_id) : null;
  return {
    name,
    job_id: stored?.job_id || null,
    status: record?.status ?? "waiting",
    started_at: record?.started_at ?? null,
    finished_at: record?.finished_at ?? null,
    error: record?.error ?? null,
    outcome: stored?.outcome ?? null,
  };
}

/**
 * The runs with each step's job state and outcome. A run reads as running
 * while its start job is pending or running. A running run whose start or
 * step job failed or was canceled on its own (a search's selection, a
 * dependency) is recorded as failed here.
 */
export async function runViews(sources: ViewSources, records: readonly PipelineRunRecord[]): Promise<PipelineRunView[]> {
  const steps = await stepsOf(sources.db, records.map((record) => record.id));
  return await Promise.all(records.map(async (record) => {
    const stored = steps.get(record.id) ?? {};
    const views = await Promise.all(PIPELINE_STEPS.map((name) => stepView(sources.jobs, name, stored[name])));
    const broken = views.find((step) => step.status === "failed" || step.status === "canceled");
    let { status, error, finished_at } = record;
    const start = record.start_job_id ? await job(sources.jobs, record.start_job_id) : null;
    const startBroken = start && (start.status === "failed" || start.status === "canceled") ? start : null;
    // Until its start job has finished enqueueing the steps, a run is not over: a step
    // that failed fast would otherwise show the run failed beside a step still waiting.
    if (start && (start.status === "pending" || start.status === "running")) {
      return { ...viewOf(record, views), status: "running", error: null, finished_at: null };
    }
    // A step whose job failed on its own (a search's selection, a dependency) ends the run here.
    if (status === "running" && (broken || startBroken)) {
      status = "failed";
      error = broken ? `${broken.name}: ${broken.error ?? broken.status}` : `start: ${startBroken!.error ?? startBroken!.status}`;
      finished_at = broken?.finished_at ?? startBroken?.finished_at ?? new Date().toISOString();
      await sources.repository.update(record.id, { status, error, finished_at });
    }
    return { ...viewOf(record, views), status, error, finished_at };
  }));
}

function viewOf(record: PipelineRunRecord, steps: PipelineStepView[]): PipelineRunView {
  return {
    id: record.id,
    pipeline: record.pipeline,
    status: record.status,
    trigger: record.trigger,
    start_job_id: record.start_job_id,
    started_at: record.started_at,
    finished_at: record.finished_at,
    error: record.error,
    steps,
  };
}
