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

/** The info of an ML service. */
export interface MLServiceInfo extends ServiceInfo {
  /** Who built the model. */
  author?: string | null;
  /** The author's note on the model, e.g. its intended use and limits. */
  author_note?: string | null;
  /** How far the author trusts the model. */
  author_assessed_status?: AssessedStatus | null;
  /** Where to reach the author. */
  contact_email?: string | null;
  /** The organization behind the model. */
  organization?: string | null;
  /** URL of the organization's logo. */
  organization_logo_url?: string | null;
  /** How to cite the model. */
  citation_info?: string | null;
}
