/**
 * Optional peer dependencies: packages only some services need (the ONNX
 * runtime, the docs UI, ...) are not installed with chapkit; the code that
 * needs one imports it on first use, and a missing one fails with an error
 * naming the package to add.
 *
 * @module
 */

/** Thrown when an optional peer dependency is needed but cannot be imported. */
export class MissingPeerError extends Error {
  /** The npm package to add. */
  readonly packageName: string;

  /** Creates the error for `packageName`, needed for `purpose` (e.g. "ONNX models"). */
  constructor(packageName: string, purpose: string, options: { cause?: unknown } = {}) {
    super(
      `${purpose} need the optional package ${packageName}, which is not installed: ` +
        `bun add ${packageName} (or npm install ${packageName}; on Deno, add "npm:${packageName}" to the import map)`,
      options,
    );
    this.name = "MissingPeerError";
    this.packageName = packageName;
  }
}

/**
 * Imports an optional peer with `load` (a literal `import("name")`, so bundlers
 * and `deno publish` see the specifier).
 *
 * @throws {MissingPeerError} when the import fails; the import's error is its `cause`.
 */
export async function importPeer<T>(packageName: string, purpose: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    throw new MissingPeerError(packageName, purpose, { cause });
  }
}
