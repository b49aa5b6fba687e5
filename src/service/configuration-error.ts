import { ChapkitError } from "../core/errors.ts";

/** A service assembled wrongly (a missing module, a bad health-check name); raised by `build()`. */
export class ConfigurationError extends ChapkitError {
  /** Creates the error with what is wrong. */
  constructor(detail: string) {
    super(detail, {
      type: "urn:chapkit:error:configuration",
      title: "Invalid Service Configuration",
      status: 500,
    });
  }
}
