/**
 * The digest's channels from config: email when `host`, `from` and `to` are set, Slack when the
 * webhook URL is an https URL (http only to this host, for tests and local relays). A channel
 * half configured is off, with one line saying what is missing; it never stops the extension.
 */
import type { MemoryConfig } from "../config.js";
import { createSlackWebhookSender, type PostSlack } from "./slack-webhook.js";
import { createSmtpSender, type SendEmail } from "./smtp-sender.js";

export interface DigestChannels {
  email?: { send: SendEmail; from: string };
  slack?: { post: PostSlack };
  warnings: string[];
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function resolveDigestChannels(digest: MemoryConfig["digest"] | undefined): DigestChannels {
  const channels: DigestChannels = { warnings: [] };
  const email = digest?.email;
  if (email && (email.host || email.from || (email.to?.length ?? 0) > 0)) {
    const missing = [
      email.host ? undefined : "host",
      email.from ? undefined : "from",
      (email.to?.length ?? 0) > 0 ? undefined : "to",
    ].filter((name): name is string => name !== undefined);
    if (missing.length > 0) {
      channels.warnings.push(
        `digest.email is off: ${missing.map((name) => `digest.email.${name}`).join(", ")} not set`,
      );
    } else if (email.password && !email.user) {
      channels.warnings.push("digest.email is off: digest.email.password is set without digest.email.user");
    } else {
      channels.email = {
        from: email.from as string,
        send: createSmtpSender({
          host: email.host as string,
          port: email.port ?? 587,
          security: email.security ?? "starttls",
          user: email.user,
          password: email.password,
          from: email.from as string,
          to: email.to ?? [],
        }),
      };
    }
  }
  const webhookUrl = digest?.slack?.webhookUrl;
  if (webhookUrl) {
    let url: URL | undefined;
    try {
      url = new URL(webhookUrl);
    } catch {
      url = undefined;
    }
    if (!url || !(url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname)))) {
      // the URL is a secret: say what is wrong without it
      channels.warnings.push(
        "digest.slack is off: digest.slack.webhookUrl is not an https URL (expected https://hooks.slack.com/services/…)",
      );
    } else {
      channels.slack = { post: createSlackWebhookSender(url.toString()) };
    }
  }
  return channels;
}
