import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EXPERIMENTS_KEY, type ExperimentTracker, MlflowClient, MlflowError, type MlflowRunExport } from "../../../src/modules/experiments/mod.ts";
import { call, json } from "../../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { createConfig, finished, type Json } from "../ml/_support.ts";
import { type MlflowServer, startMlflowServer } from "./_mlflow-server.ts";
import { type ExperimentService, openExperimentService, TRAINING } from "./_support.ts";

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`MLflow export and push on ${store.name}`, () => {
    let service: ExperimentService;
    let mlflow: MlflowServer;
    let runId: string;
    before(async () => {
      service = await openExperimentService(store);
      mlflow = await startMlflowServer();
      // 1 200 epochs: more points than one MLflow log-batch takes.
      const config = await createConfig(service.app, "long", { epochs: 1200, rate: 0.001, nested: { depth: 1 } });
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", {
        config_id: config, data: TRAINING, model: "slope", run: { experiment: "mlflow-export", name: "long", tags: { team: "a" } },
      }), 202);
      assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
      const runs = await json<Json[]>(await call(service.app, "GET", `/api/v1/runs?job_id=${answer.job_id}`), 200);
      runId = String(runs[0]!.id);
    });
    after(async () => {
      await mlflow.stop();
      await service.close();
      await store.cleanup();
    });

    test("a run exports in MLflow's Run, Metric, Param and RunTag shapes with its whole metric history", async () => {
      const exported = await json<MlflowRunExport & Json>(await call(service.app, "GET", `/api/v1/runs/${runId}/$mlflow`), 200);
      assert.equal(exported.experiment.name, "mlflow-export");
      const { info, data } = exported.run;
      assert.equal(info.run_id, runId);
      assert.equal(info.status, "FINISHED");
      assert.equal(info.run_name, "long");
      assert.ok(Number.isInteger(info.start_time) && Number.isInteger(info.end_time) && info.end_time! >= info.start_time);
      assert.deepEqual(data.params.find((p) => p.key === "epochs"), { key: "epochs", value: "1200" });
      assert.deepEqual(data.params.find((p) => p.key === "nested.depth"), { key: "nested.depth", value: "1" });
      assert.ok(data.params.every((p) => typeof p.value === "string"));
      assert.deepEqual(data.metrics.map((m) => m.key), ["loss", "rmse"]);
      assert.equal(data.metrics[0]!.step, 1199);
      assert.deepEqual(data.tags.find((t) => t.key === "team"), { key: "team", value: "a" });
      assert.deepEqual(data.tags.find((t) => t.key === "mlflow.runName"), { key: "mlflow.runName", value: "long" });
      assert.equal(exported.metric_history.filter((m) => m.key === "loss").length, 1200);
      assert.ok(exported.metric_history.every((m) => Number.isInteger(m.timestamp) && Number.isInteger(m.step)));
    });

    test("the push client creates the experiment and run, logs in batches within MLflow's limits and ends the run", async () => {
      const exported = await json<MlflowRunExport>(await call(service.app, "GET", `/api/v1/runs/${runId}/$mlflow`), 200);
      const client = new MlflowClient({ url: mlflow.url, fetch: (input, init) => fetch(input, init) });
      const ids = await client.pushRuns([exported]);
      const remote = mlflow.runs.get(ids.get(runId)!)!;
      assert.ok(remote, "the run exists on the server");
      assert.equal([...mlflow.experiments.values()].find((e) => e.experiment_id === remote.info.experiment_id)?.name, "mlflow-export");
      assert.equal(remote.info.status, "FINISHED");
      assert.equal(remote.info.end_time, exported.run.info.end_time);
      assert.equal(remote.metrics.filter((m) => m.key === "loss").length, 1200);
      assert.equal(remote.params.get("rate"), "0.001");
      assert.equal(remote.tags.get("chapkit.run_id"), runId);
      const batches = mlflow.calls.filter((c) => c === "POST runs/log-batch").length;
      assert.ok(batches >= 2, `${batches} log-batch calls`);
      assert.deepEqual(mlflow.calls.slice(0, 3), ["GET experiments/get-by-name", "POST experiments/create", "POST runs/create"]);

      // The experiment exists now: a second push finds it instead of creating it.
      mlflow.calls.length = 0;
      await new MlflowClient({ url: mlflow.url, fetch: (input, init) => fetch(input, init) }).pushRun(exported);
      assert.equal(mlflow.calls.filter((c) => c === "POST experiments/create").length, 0);
    });

    test("a child run is pushed after its parent and points at the parent's MLflow id", async () => {
      const tracker = service.app.chapkit.context.get<ExperimentTracker>(EXPERIMENTS_KEY);
      const parent = await tracker.startRun({ experiment: "nested", name: "search", kind: "search" });
      const child = await tracker.startRun({ experiment: "nested", name: "trial", parentRunId: parent.id, params: { alpha: 1 } });
      await tracker.logMetrics(child.id, [{ key: "rmse", value: 0.5 }]);
      await tracker.endRun(child.id, { status: "completed" });
      await tracker.endRun(parent.id, { status: "failed", error: "stopped" });
      // The child comes first in the list: the client pushes the parent before it.
      const exports: MlflowRunExport[] = [];
      for (const id of [child.id, parent.id]) exports.push(await json<MlflowRunExport>(await call(service.app, "GET", `/api/v1/runs/${id}/$mlflow`), 200));
      const ids = await new MlflowClient({ url: mlflow.url, fetch: (input, init) => fetch(input, init) }).pushRuns(exports);
      const remoteChild = mlflow.runs.get(ids.get(child.id)!)!;
      const remoteParent = mlflow.runs.get(ids.get(parent.id)!)!;
      assert.equal(remoteChild.tags.get("mlflow.parentRunId"), ids.get(parent.id));
      assert.equal(remoteParent.info.status, "FAILED");
      assert.equal(remoteParent.tags.get("mlflow.note.content"), "stopped");
    });

    test("an MLflow refusal is an MlflowError with its status and error code", async () => {
      const client = new MlflowClient({ url: `${mlflow.url}/nowhere`, fetch: (input, init) => fetch(input, init) });
      await assert.rejects(client.experimentId("x"), (error: unknown) => {
        assert.ok(error instanceof MlflowError);
        assert.equal(error.status, 404);
        assert.equal(error.errorCode, "ENDPOINT_NOT_FOUND");
        return true;
      });
      // The default fetch (resilientFetch) reports a refused connection the same way.
      const closed = new MlflowClient({ url: "http://127.0.0.1:9" });
      await assert.rejects(closed.experimentId("x"), (error: unknown) => error instanceof MlflowError && error.status === 0);
    });
  });
}
