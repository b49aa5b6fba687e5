/** Throws unless the answer is a 2xx, naming what refused it; the body is read and dropped either way. */
export async function expectAccepted(response: Response, what: string): Promise<void> {
  const body = await response.text().catch(() => "");
  if (!response.ok) throw new Error(`${what} answered ${response.status}${body ? `: ${body.slice(0, 200)}` : ""}`);
}
