/**
 * Sends a digest email over SMTP with nodemailer, one connection per digest (one a day needs no
 * pool), and says how it went as the pipeline's `SendResult`: the server's 4xx and lost connections
 * are retried, a refused login pauses the pipeline until the config changes, a 5xx refusal of the
 * message goes to the dead-letter spool. The password never reaches a log line.
 */
import type { SendResult } from "@clawscope/kit";
import { toExcerpt, toNetworkSendResult } from "@clawscope/kit";
import nodemailer from "nodemailer";
import type { DigestEmail } from "../mapping/to-digest-email.js";

export interface SmtpOptions {
  host: string;
  port: number;
  security: "starttls" | "tls" | "none";
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  to: readonly string[];
}

export type SendEmail = (email: DigestEmail, signal: AbortSignal) => Promise<SendResult>;

const LABEL = "SMTP";

export function createSmtpSender(options: SmtpOptions): SendEmail {
  return async (email, signal) => {
    const transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.security === "tls",
      requireTLS: options.security === "starttls",
      ignoreTLS: options.security === "none",
      ...(options.user ? { auth: { user: options.user, pass: options.password ?? "" } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    const abort = () => transport.close();
    signal.addEventListener("abort", abort, { once: true });
    try {
      await transport.sendMail({
        from: options.from,
        to: [...options.to],
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        headers: { "X-Clawscope-Digest": email.messageId.replace(/[<>]/g, "") },
      });
      return { kind: "ok" };
    } catch (error) {
      return toSmtpSendResult(error);
    } finally {
      signal.removeEventListener("abort", abort);
      transport.close();
    }
  };
}

/** A nodemailer failure as a `SendResult`, by the SMTP reply code when the server answered. */
export function toSmtpSendResult(error: unknown): SendResult {
  const failure = (error ?? {}) as {
    code?: unknown;
    responseCode?: unknown;
    response?: unknown;
    message?: unknown;
  };
  const code = typeof failure.code === "string" ? failure.code : undefined;
  const status = typeof failure.responseCode === "number" ? failure.responseCode : undefined;
  const answer = toExcerpt(
    typeof failure.response === "string" ? failure.response : String(failure.message ?? ""),
  );
  const reason = `${LABEL}: ${status !== undefined ? `${status} ` : ""}${answer || code || "send failed"}`;
  if (code === "EAUTH" || status === 530 || status === 534 || status === 535)
    return { kind: "auth", reason, failure: { ...(status ? { status } : {}), bodyExcerpt: answer } };
  if (status !== undefined && status >= 500 && status < 600)
    return { kind: "reject", reason, failure: { status, bodyExcerpt: answer } };
  if (status !== undefined) return { kind: "retry", reason, failure: { status, bodyExcerpt: answer } };
  return toNetworkSendResult(LABEL, answer || code || "send failed");
}
