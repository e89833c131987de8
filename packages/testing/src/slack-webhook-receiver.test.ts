import { afterEach, describe, expect, it } from "vitest";
import {
  checkSlackWebhookBody,
  createSlackWebhookReceiver,
  type SlackWebhookReceiver,
} from "./slack-webhook-receiver.js";

describe("the Slack incoming-webhook receiver", () => {
  let receiver: SlackWebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  const post = (url: string, body: string) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body }).then(
      async (response) => ({
        status: response.status,
        body: await response.text(),
        retryAfter: response.headers.get("retry-after"),
      }),
    );

  it("answers as Slack documents: ok, invalid_payload, no_text, no_service, then 429 with Retry-After past the burst", async () => {
    receiver = await createSlackWebhookReceiver({ burst: 2 });
    expect(await post(receiver.url, JSON.stringify({ text: "hello" }))).toMatchObject({
      status: 200,
      body: "ok",
    });
    expect(await post(receiver.url, "{not json")).toMatchObject({ status: 400, body: "invalid_payload" });
    expect(await post(receiver.url, JSON.stringify({ text: " " }))).toMatchObject({
      status: 400,
      body: "no_text",
    });
    expect(
      await post(`${new URL(receiver.url).origin}/services/T/B/wrong`, JSON.stringify({ text: "x" })),
    ).toMatchObject({
      status: 404,
      body: "no_service",
    });
    expect(await post(receiver.url, JSON.stringify({ text: "second" }))).toMatchObject({ status: 200 });
    expect(await post(receiver.url, JSON.stringify({ text: "third" }))).toMatchObject({
      status: 429,
      retryAfter: "1",
    });
    expect(receiver.accepted().map((message) => message.text)).toEqual(["hello", "second"]);
  });

  it("holds Block Kit's rules for the blocks it checks", () => {
    const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
    expect(checkSlackWebhookBody({ blocks: [section("ok")] })).toBeUndefined();
    expect(checkSlackWebhookBody({ blocks: [section("x".repeat(3001))] })).toBe("invalid_payload");
    expect(checkSlackWebhookBody({ blocks: [{ type: "header", text: { type: "mrkdwn", text: "h" } }] })).toBe(
      "invalid_payload",
    );
    expect(
      checkSlackWebhookBody({
        blocks: [{ type: "section", fields: Array(11).fill({ type: "mrkdwn", text: "f" }) }],
      }),
    ).toBe("invalid_payload");
    expect(checkSlackWebhookBody({ blocks: Array(51).fill(section("a")) })).toBe("invalid_payload");
    expect(checkSlackWebhookBody({ blocks: [{ type: "carousel" }] })).toBe("invalid_payload");
    expect(checkSlackWebhookBody([])).toBe("invalid_payload");
    expect(checkSlackWebhookBody({})).toBe("no_text");
  });
});
