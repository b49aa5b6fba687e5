/** How far an ML service's author trusts it (contract §13.3). */
export type AssessedStatus = "gray" | "red" | "orange" | "yellow" | "green";

/** What `/api/v1/info` answers; extra keys are emitted as given. */
export interface ServiceInfo {
  /** Shown as the page heading and the OpenAPI title. */
  display_name: string;
  /** Default `1.0.0`. */
  version?: string;
  summary?: string | null;
  /** Falls back to `summary`. */
  description?: string | null;
  contact?: Record<string, string> | null;
  license_info?: Record<string, string> | null;
  [extra: string]: unknown;
}

/** The info of an ML service. */
export interface MLServiceInfo extends ServiceInfo {
  author?: string | null;
  author_note?: string | null;
  author_assessed_status?: AssessedStatus | null;
  contact_email?: string | null;
  organization?: string | null;
  organization_logo_url?: string | null;
  citation_info?: string | null;
}
