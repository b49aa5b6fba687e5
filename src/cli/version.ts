/** The package version the chapkit command reports; a packaging test keeps it equal to package.json's. */
export const CLI_VERSION = "0.1.0";
