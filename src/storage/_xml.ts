const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITIES[name]!);
}

/** The text of every `<tag>…</tag>` element, in order (flat documents only: S3 and Azure listings). */
export function xmlTexts(xml: string, tag: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`<${tag}>([^<]*)</${tag}>`, "g");
  for (const match of xml.matchAll(pattern)) out.push(decode(match[1]!));
  return out;
}

/** The text of the first `<tag>…</tag>` element, or undefined. */
export function xmlText(xml: string, tag: string): string | undefined {
  return xmlTexts(xml, tag)[0];
}
