/**
 * Synthetic climate-and-health panels for trying a model out
 * (`GET /api/v1/ml/$generate-sample-data` of the chap profile): per
 * location, a seasonal signal drives rainfall and disease cases, so a model
 * has something real to learn.
 *
 * @module
 */
import type { Cell } from "./_columns.ts";
import type { DataFrameJSON } from "./dataframe.ts";
import { seededRandom } from "../../../core/seeded-random.ts";

/** Options of {@link sampleFrame}. */
export interface SampleOptions {
  /** Locations `location_0` … (default 5). */
  locations?: number;
  /** Periods per location (default 50). */
  periods?: number;
  /** Extra covariate columns `feature_0` … (default 3). */
  features?: number;
  /** `monthly` (`2020-01`) or `weekly` (`2020-W01`). */
  periodType?: "monthly" | "weekly";
  /** The first period's index from January 2020 (default 0). */
  startPeriod?: number;
  /** Seed of the generator; negative or absent means random. */
  seed?: number;
  /** Extra covariate columns by name (after the features; names already present are not repeated). */
  covariates?: readonly string[];
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * A panel of `time_period, location, disease_cases, population, rainfall,
 * mean_temperature, feature_*` rows, periods grouped together.
 */
export function sampleFrame(options: SampleOptions = {}): DataFrameJSON {
  const random = seededRandom(options.seed !== undefined && options.seed >= 0 ? options.seed : Math.floor(Math.random() * 2 ** 31));
  const locations = options.locations ?? 5;
  const periods = options.periods ?? 50;
  const weekly = options.periodType === "weekly";
  const perYear = weekly ? 52 : 12;
  const base = ["time_period", "location", "disease_cases", "population", "rainfall", "mean_temperature"];
  const features = Array.from({ length: options.features ?? 3 }, (_, i) => `feature_${i}`);
  const extra = [...features, ...(options.covariates ?? []).filter((name) => !base.includes(name) && !features.includes(name))];
  const columns = [...base, ...extra];
  const params = Array.from({ length: locations }, () => ({
    population: 50_000 + Math.floor(random() * 1_450_000),
    phase: random(),
    base: 20 + random() * 50,
    amplitude: 0.45 + random() * 0.25,
  }));
  const data: Cell[][] = [];
  for (let p = 0; p < periods; p++) {
    const index = (options.startPeriod ?? 0) + p;
    const fraction = (index % perYear) / perYear;
    const year = 2020 + Math.floor(index / perYear);
    const period = weekly
      ? `${year}-W${String((index % 52) + 1).padStart(2, "0")}`
      : `${year}-${String((index % 12) + 1).padStart(2, "0")}`;
    params.forEach((param, l) => {
      const season = Math.sin(2 * Math.PI * (fraction - param.phase));
      const rainfall = Math.max(0, 150 + 130 * season + (random() - 0.5) * 50);
      const temperature = 24 + 7 * Math.sin(2 * Math.PI * (fraction - 0.08)) + (random() - 0.5) * 3;
      const cases = param.base * (1 + param.amplitude * season) + 0.06 * rainfall + (random() - 0.5) * 8;
      const row: Cell[] = [period, `location_${l}`, Math.max(0, Math.round(cases)), param.population, round(rainfall, 2), round(temperature, 2)];
      extra.forEach((_, c) => {
        const value = 50 + 35 * Math.sin(2 * Math.PI * (fraction - (c + 1) / (extra.length + 1))) + (random() - 0.5) * 16;
        row.push(round(Math.min(100, Math.max(0, value)), 2));
      });
      data.push(row);
    });
  }
  return { columns, data };
}

/** GeoJSON for `location_0` … as points or small square polygons, `properties.id` naming the location. */
export function sampleGeo(locations: number, type: "polygon" | "point" = "polygon"): Record<string, unknown> {
  const features = Array.from({ length: locations }, (_, l) => {
    const x = 30 + l * 0.5;
    const y = -1;
    const geometry = type === "point"
      ? { type: "Point", coordinates: [x, y] }
      : { type: "Polygon", coordinates: [[[x, y], [x + 0.4, y], [x + 0.4, y + 0.4], [x, y + 0.4], [x, y]]] };
    return { type: "Feature", id: `location_${l}`, properties: { id: `location_${l}` }, geometry };
  });
  return { type: "FeatureCollection", features };
}
