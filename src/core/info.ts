/** How far an ML service's author trusts it (contract §13.3). */
export type AssessedStatus = "gray" | "red" | "orange" | "yellow" | "green";

/** What `/api/v1/info` answers; extra keys are emitted as given. */
export interface ServiceInfo {
  /** Shown as the page heading and the OpenAPI title. */
  display_name: string;
  /** Default `1.0.0`. */
  version?: string;
  /** A one-line summary of the service. */
  summary?: string | null;
  /** Falls back to `summary`. */
  description?: string | null;
  /** Contact details (e.g. `name`, `url`, `email`). */
  contact?: Record<string, string> | null;
  /** License details (e.g. `name`, `url`). */
  license_info?: Record<string, string> | null;
  /** Further fields, answered as given. */
  [extra: string]: unknown;
}

/** Who made a model, how far they trust it and how to reach and cite them; shared by {@link MLServiceInfo} and {@link ModelMetadata}. */
export interface ModelAuthorship {
  /** Who built the model. */
  author?: string | null;
  /** The author's note on the model, e.g. its intended use and limits. */
  author_note?: string | null;
  /** How far the author trusts the model (chap-core shows a missing one as `red`). */
  author_assessed_status?: AssessedStatus | null;
  /** Where to reach the author. */
  contact_email?: string | null;
  /** The organization behind the model. */
  organization?: string | null;
  /** Absolute URL of the organization's logo, shown on the model card (null: none). */
  organization_logo_url?: string | null;
  /** How to cite the model. */
  citation_info?: string | null;
}

/** The info of an ML service. */
export interface MLServiceInfo extends ServiceInfo, ModelAuthorship {}

/** Who made a model and how to reach and cite them (chapkit 1.x `ModelMetadata`, nested in the chap profile's info). */
export interface ModelMetadata extends ModelAuthorship {
  /** An http(s) URL of the model's source (chap-core uses the service URL when absent). */
  repository_url?: string | null;
  /** An http(s) URL of the model's documentation. */
  documentation_url?: string | null;
}

/**
 * The info of an ML service in the chap profile (chapkit 1.x
 * `MLServiceInfo`). chap-core validates `/api/v1/info` strictly, so the
 * service answers exactly these keys; the seed fields of {@link MLServiceInfo}
 * (`author` …) are moved into `model_metadata` when it is not given.
 */
export interface ChapServiceInfo extends MLServiceInfo {
  /** Slug naming the model template in chap-core (`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`); default: from `display_name`. */
  id?: string;
  /** Author, contact and links of the model. */
  model_metadata?: ModelMetadata;
  /** The time resolution of the data the model works on (default `monthly`). */
  period_type?: "weekly" | "monthly";
  /** Lowest accepted `prediction_periods` of a config (default 0). */
  min_prediction_periods?: number;
  /** Highest accepted `prediction_periods` of a config (default 100). */
  max_prediction_periods?: number;
  /** Whether users may add continuous covariates of their own (default false). */
  allow_free_additional_continuous_covariates?: boolean;
  /** Covariates the model needs in its data (default `[]`). */
  required_covariates?: string[];
  /** Whether the model needs GeoJSON (default false). */
  requires_geo?: boolean;
}
