import { expectAccepted } from "./_http.ts";
import type { ChannelContext, NotificationChannel, NotificationMessage } from "./types.ts";

/** Options of {@link slackChannel}. */
export interface SlackChannelOptions {
  /** The incoming-webhook URL (Slack, Mattermost, Rocket.Chat, Microsoft Teams workflows and others take the same body). */
  url: string;
  /** Overrides the webhook's channel, where the service allows it. */
  channel?: string;
  /** Overrides the poster's name, where the service allows it. */
  username?: string;
}

/**
 * A Slack-compatible incoming webhook: POSTs `{ "text": "*subject*\ntext" }`
 * (mrkdwn), which Slack and the chat servers that copy its webhook format
 * accept.
 *
 * @example
 * ```ts ignore
 * const chat = slackChannel({ url: "https://hooks.slack.com/services/T000/B000/XXXX" });
 * ```
 */
export function slackChannel(options: SlackChannelOptions): NotificationChannel {
  return {
    kind: "slack",
    async send(message: NotificationMessage, context: ChannelContext): Promise<void> {
      const response = await context.fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          text: `*${message.subject}*\n${message.text}`,
          ...(options.channel ? { channel: options.channel } : {}),
          ...(options.username ? { username: options.username } : {}),
        }),
        signal: context.signal,
      });
      await expectAccepted(response, "The chat webhook");
    },
  };
}
