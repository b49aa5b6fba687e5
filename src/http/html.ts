const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/**
 * Headers of chapkit's own HTML pages: never framed by another site
 * (clickjacking), and, with `csp`, only the service itself as a source.
 */
export function pageHeaders(csp = "frame-ancestors 'none'"): Record<string, string> {
  return { "content-type": "text/html; charset=utf-8", "x-frame-options": "DENY", "content-security-policy": csp };
}
