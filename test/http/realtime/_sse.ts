/** Reads a `text/event-stream` response event by event. */

/** One event as read: its id, data (parsed JSON) and any comments before it. */
export interface ReadEvent {
  id?: string;
  data: unknown;
}

/** An open event stream. */
export interface EventStream {
  /** The next event (comments are collected, not returned). */
  next(): Promise<ReadEvent>;
  /** Resolves when a comment line with this text has been read. */
  comment(text: string): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** Opens `url` as an event stream; rejects with the response when it is not 200. */
export async function openStream(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
  if (response.status !== 200) throw response;
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const comments: string[] = [];
  const block = async (): Promise<string> => {
    while (!buffer.includes("\n\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      buffer += value;
    }
    const end = buffer.indexOf("\n\n");
    const text = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    return text;
  };
  const next = async (): Promise<ReadEvent> => {
    for (;;) {
      const lines = (await block()).split("\n");
      const data = lines.filter((line) => line.startsWith("data: ")).map((line) => line.slice(6));
      comments.push(...lines.filter((line) => line.startsWith(": ")).map((line) => line.slice(2)));
      if (data.length === 0) continue;
      const id = lines.find((line) => line.startsWith("id: "))?.slice(4);
      return { ...(id === undefined ? {} : { id }), data: JSON.parse(data.join("\n")) };
    }
  };
  return {
    next,
    async comment(text: string): Promise<void> {
      while (!comments.includes(text)) {
        const lines = (await block()).split("\n");
        comments.push(...lines.filter((line) => line.startsWith(": ")).map((line) => line.slice(2)));
      }
    },
    async close(): Promise<void> {
      abort.abort();
      await reader.cancel().catch(() => {});
    },
  };
}
