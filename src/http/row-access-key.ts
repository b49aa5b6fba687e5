/**
 * The service-context key under which the auth module provides its
 * `RowAccess` (when row policies or tenancy are on). A file of its own so
 * that modules can look for it without loading the row-policy code.
 */
export const ROW_ACCESS_KEY = "auth.rowAccess";
