/** The project templates built into `chapkit init`, in `--help` order. */
import type { ProjectTemplate } from "./template.ts";
import { authTemplate } from "./templates/auth.ts";
import { basicTemplate } from "./templates/basic.ts";
import { chapTemplate } from "./templates/chap.ts";
import { mlShellTemplate } from "./templates/ml-shell.ts";
import { mlTemplate } from "./templates/ml.ts";
import { onnxTemplate } from "./templates/onnx.ts";

/** Every built-in template; any other `--template` value is an npm package spec. */
export const TEMPLATES: readonly ProjectTemplate[] = [
  basicTemplate,
  mlTemplate,
  mlShellTemplate,
  onnxTemplate,
  authTemplate,
  chapTemplate,
];

/** The built-in template called `name`, or undefined. */
export function builtinTemplate(name: string): ProjectTemplate | undefined {
  return TEMPLATES.find((template) => template.name === name);
}
