/**
 * A small MLflow tracking server over real HTTP: the REST endpoints the push
 * client uses (`experiments/get-by-name`, `experiments/create`, `runs/create`,
 * `runs/log-batch`, `runs/update`, `runs/get`), with MLflow's error shapes
 * and its log-batch limits, keeping everything in memory.
 */
import { serve } from "../../../src/runtime/serve.ts";

interface StoredRun {
  info: Record<string, unknown>;
  metrics: { key: string; value: number; timestamp: number; step: number }[];
  params: Map<string, string>;
  tags: Map<string, string>;
}

/** A running fake MLflow server. */
export interface MlflowServer {
  url: string;
  experiments: Map<string, { experiment_id: string; name: string }>;
  runs: Map<string, StoredRun>;
  /** Every call: `METHOD path`. */
  calls: string[];
  stop(): Promise<void>;
}

function error(status: number, code: string, message: string): Response {
  return Response.json({ error_code: code, message }, { status });
}

/** Starts the server on a free port. */
export async function startMlflowServer(): Promise<MlflowServer> {
  const experiments = new Map<string, { experiment_id: string; name: string }>();
  const runs = new Map<string, StoredRun>();
  const calls: string[] = [];
  let next = 0;
  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/api\/2\.0\/mlflow\//, "");
    calls.push(`${request.method} ${path}`);
    const body = request.method === "POST" ? await request.json() as Record<string, unknown> : {};
    if (request.headers.get("content-type") !== "application/json" && request.method === "POST") {
      return error(400, "BAD_REQUEST", "JSON expected");
    }
    switch (`${request.method} ${path}`) {
      case "GET experiments/get-by-name": {
        const found = [...experiments.values()].find((e) => e.name === url.searchParams.get("experiment_name"));
        return found ? Response.json({ experiment: { ...found, lifecycle_stage: "active" } }) : error(404, "RESOURCE_DOES_NOT_EXIST", "no such experiment");
      }
      case "POST experiments/create": {
        if (typeof body.name !== "string" || !body.name) return error(400, "INVALID_PARAMETER_VALUE", "name required");
        if ([...experiments.values()].some((e) => e.name === body.name)) return error(400, "RESOURCE_ALREADY_EXISTS", "exists");
        const id = String(++next);
        experiments.set(id, { experiment_id: id, name: body.name });
        return Response.json({ experiment_id: id });
      }
      case "POST runs/create": {
        if (!experiments.has(String(body.experiment_id))) return error(404, "RESOURCE_DOES_NOT_EXIST", "no experiment");
        if (typeof body.start_time !== "number") return error(400, "INVALID_PARAMETER_VALUE", "start_time must be a number");
        const id = `run${++next}`;
        const info = { run_id: id, run_uuid: id, experiment_id: body.experiment_id, run_name: body.run_name, status: "RUNNING", start_time: body.start_time, lifecycle_stage: "active" };
        const tags = new Map((body.tags as { key: string; value: string }[] ?? []).map((t) => [t.key, t.value]));
        runs.set(id, { info, metrics: [], params: new Map(), tags });
        return Response.json({ run: { info, data: {} } });
      }
      case "POST runs/log-batch": {
        const run = runs.get(String(body.run_id));
        if (!run) return error(404, "RESOURCE_DOES_NOT_EXIST", "no run");
        const metrics = (body.metrics ?? []) as StoredRun["metrics"];
        const params = (body.params ?? []) as { key: string; value: string }[];
        const tags = (body.tags ?? []) as { key: string; value: string }[];
        if (metrics.length > 1000 || params.length > 100 || tags.length > 100 || metrics.length + params.length + tags.length > 1000) {
          return error(400, "INVALID_PARAMETER_VALUE", "too many entities in one batch");
        }
        for (const m of metrics) {
          if (typeof m.value !== "number" || !Number.isInteger(m.timestamp) || !Number.isInteger(m.step)) {
            return error(400, "INVALID_PARAMETER_VALUE", `bad metric ${JSON.stringify(m)}`);
          }
        }
        for (const p of params) {
          if (typeof p.value !== "string") return error(400, "INVALID_PARAMETER_VALUE", "param values are strings");
          if (run.params.has(p.key) && run.params.get(p.key) !== p.value) return error(400, "INVALID_PARAMETER_VALUE", "params cannot change");
          run.params.set(p.key, p.value);
        }
        for (const t of tags) run.tags.set(t.key, t.value);
        run.metrics.push(...metrics);
        return Response.json({});
      }
      case "POST runs/update": {
        const run = runs.get(String(body.run_id));
        if (!run) return error(404, "RESOURCE_DOES_NOT_EXIST", "no run");
        run.info.status = body.status;
        if (body.end_time !== undefined) run.info.end_time = body.end_time;
        return Response.json({ run_info: run.info });
      }
      case "GET runs/get": {
        const run = runs.get(url.searchParams.get("run_id") ?? "");
        if (!run) return error(404, "RESOURCE_DOES_NOT_EXIST", "no run");
        return Response.json({ run: { info: run.info, data: { params: [...run.params].map(([key, value]) => ({ key, value })) } } });
      }
      default:
        return error(404, "ENDPOINT_NOT_FOUND", `${request.method} ${path}`);
    }
  };
  const server = await serve(handle, { port: 0 });
  return { url: `http://127.0.0.1:${server.port}`, experiments, runs, calls, stop: () => server.stop(0) };
}
