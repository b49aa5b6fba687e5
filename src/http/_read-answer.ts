/** Reads a response once into status, headers, raw text and the parsed JSON body (undefined when empty or not JSON). */
export async function readAnswer(response: Response): Promise<{ status: number; headers: Headers; text: string; body: unknown }> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}
