import type { TSchema } from "@sinclair/typebox";
import {
  BadRequestError,
  ChapkitError,
  type FieldError,
  NotFoundError,
  toChapkitError,
  ValidationError,
} from "../core/errors.ts";
import { collectErrors } from "../core/validation.ts";

const LOCATIONS: Record<string, string> = {
  body: "body",
  query: "query",
  params: "path",
  headers: "header",
  cookie: "cookie",
};

interface ElysiaValidationLike {
  type?: string;
  value?: unknown;
  validator?: { schema?: TSchema } | TSchema;
  all?: { path: string; message: string }[];
}

function validationErrors(error: ElysiaValidationLike): FieldError[] {
  const loc = [LOCATIONS[error.type ?? ""] ?? "body"];
  const validator = error.validator as { schema?: TSchema } | undefined;
  const schema = (validator?.schema ?? error.validator) as TSchema | undefined;
  if (schema && typeof schema === "object") {
    try {
      const errors = collectErrors(schema, error.value, loc);
      if (errors.length > 0) return errors;
    } catch {
      // Fall back to the framework's own list below.
    }
  }
  return (error.all ?? []).map((item) => ({
    loc: [...loc, ...item.path.split("/").filter(Boolean)],
    msg: item.message,
    type: "value_error",
  }));
}

/**
 * Maps an error raised by the framework (by code) or by a handler to a
 * chapkit error: request validation → 422 `validation-failed`, malformed
 * JSON → 422 with a `json_invalid` entry, no route → 404, anything unknown → 500.
 */
export function fromElysiaError(code: string | number, error: unknown): ChapkitError {
  switch (code) {
    case "VALIDATION":
      return new ValidationError(validationErrors(error as ElysiaValidationLike));
    case "PARSE": {
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof ChapkitError) return cause;
      return new ValidationError([{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }]);
    }
    case "NOT_FOUND":
      return new NotFoundError("Not Found");
    case "INVALID_COOKIE_SIGNATURE":
      return new BadRequestError("Invalid cookie signature");
    default:
      return toChapkitError(error);
  }
}
