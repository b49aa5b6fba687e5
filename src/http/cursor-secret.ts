// The secret each request's list cursors are signed with, set by the request
// context before routing; apart from the list code so start-up need not load it.
const cursorSecrets = new WeakMap<Request, string>();

/** Signs the list cursors of this request with the service's secret (set once per request, before routing). */
export function assignCursorSecret(request: Request, secret: string): void {
  cursorSecrets.set(request, secret);
}

/** The secret `request`'s list cursors are signed with, if the service set one. */
export function cursorSecretOf(request: Request): string | undefined {
  return cursorSecrets.get(request);
}
