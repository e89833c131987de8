import { createSlackWebhookReceiver, type SlackWebhookReceiver } from "@clawscope/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createSlackWebhookSender } from "./slack-webhook.js";
import { toSmtpSendResult } from "./smtp-sender.js";

const message = {
  text: "digest",
  blocks: [{ type: "section" as const, text: { type: "mrkdwn" as const, text: "hi" } }],
};
const signal = () => new AbortController().signal;

describe("createSlackWebhookSender against Slack's webhook contract", () => {
  let receiver: SlackWebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it("reads ok, 429 Retry-After, invalid_payload, invalid_token and 5xx as the pipeline needs, never naming the URL", async () => {
    receiver = await createSlackWebhookReceiver();
    const post = createSlackWebhookSender(receiver.url);
    expect(await post(message, signal())).toEqual({ kind: "ok" });
    expect(receiver.accepted()).toEqual([message]);

    receiver.http.respondWith({ status: 429, headers: { "retry-after": "7" }, body: "rate_limited" }, 1);
    expect(await post(message, signal())).toMatchObject({ kind: "retry", retryAfterMs: 7_000 });

    const invalid = await post(
      { text: "", blocks: [{ type: "header", text: { type: "mrkdwn", text: "x" } }] } as never,
      signal(),
    );
    expect(invalid).toMatchObject({
      kind: "reject",
      failure: { status: 400, bodyExcerpt: "invalid_payload" },
    });

    receiver.http.respondWith({ status: 403, body: "invalid_token" }, 1);
    expect(await post(message, signal())).toMatchObject({ kind: "auth" });
    receiver.http.respondWith({ status: 500, body: "rollup_error" }, 1);
    const failed = await post(message, signal());
    expect(failed).toMatchObject({ kind: "retry", failure: { status: 500 } });
    receiver.http.respondWith({ status: 200, body: "<html>login</html>" }, 1);
    expect(await post(message, signal())).toMatchObject({ kind: "reject" });

    const secretPath = new URL(receiver.url).pathname;
    for (const result of [invalid, failed]) expect(JSON.stringify(result)).not.toContain(secretPath);
    expect(receiver.accepted()).toHaveLength(1);
  });

  it("retries when nobody answers, without the URL in the reason", async () => {
    receiver = await createSlackWebhookReceiver();
    const url = receiver.url;
    await receiver.http.down();
    const result = await createSlackWebhookSender(url)(message, signal());
    expect(result).toMatchObject({ kind: "retry" });
    expect(JSON.stringify(result)).not.toContain("/services/");
  });
});

describe("toSmtpSendResult", () => {
  it("pauses on a refused login, dead-letters a 5xx refusal, retries a 4xx and a lost connection", () => {
    expect(
      toSmtpSendResult({ code: "EAUTH", responseCode: 535, response: "535 5.7.8 bad credentials" }).kind,
    ).toBe("auth");
    expect(
      toSmtpSendResult({ code: "EENVELOPE", responseCode: 550, response: "550 no such user" }),
    ).toMatchObject({
      kind: "reject",
      failure: { status: 550 },
    });
    expect(toSmtpSendResult({ code: "EMESSAGE", responseCode: 451, response: "451 try later" }).kind).toBe(
      "retry",
    );
    expect(
      toSmtpSendResult({ code: "ECONNECTION", message: "connect ECONNREFUSED 127.0.0.1:2525" }),
    ).toMatchObject({
      kind: "retry",
      failure: { cause: "connect ECONNREFUSED 127.0.0.1:2525" },
    });
    expect(toSmtpSendResult(undefined).kind).toBe("retry");
  });
});
