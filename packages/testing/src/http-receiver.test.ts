import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpReceiver, type HttpReceiver, waitFor } from "./http-receiver.js";

const post = (url: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

describe("createHttpReceiver", () => {
  let receiver: HttpReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
  });

  it("records method, path, headers, raw and gunzipped body, and JSON", async () => {
    receiver = await createHttpReceiver();
    const plain = await post(`${receiver.url}/v1/traces?x=1`, '{"a":1}', { "X-Custom": "yes" });
    expect(plain.status).toBe(200);
    const zipped = gzipSync(Buffer.from('{"b":[1,2]}'));
    await post(`${receiver.url}/any/path`, zipped, { "content-encoding": "gzip" });
    await fetch(`${receiver.url}/binary`, { method: "PUT", body: new Uint8Array([1, 2, 3]) });
    const [first, second, third] = receiver.requests;
    expect(first).toMatchObject({
      method: "POST",
      path: "/v1/traces",
      url: "/v1/traces?x=1",
      json: { a: 1 },
      status: 200,
    });
    expect(first?.headers["x-custom"]).toBe("yes");
    expect(second?.rawBody.equals(zipped)).toBe(true);
    expect(second?.body.toString()).toBe('{"b":[1,2]}');
    expect(second?.json).toEqual({ b: [1, 2] });
    expect(third).toMatchObject({ method: "PUT", path: "/binary" });
    expect(third?.json).toBeUndefined();
    expect([...(third?.body ?? [])]).toEqual([1, 2, 3]);
  });

  it("reports undecodable bodies instead of failing", async () => {
    receiver = await createHttpReceiver();
    await post(`${receiver.url}/x`, "not json");
    await post(`${receiver.url}/y`, "not gzip", { "content-encoding": "gzip" });
    expect(receiver.requests.map((request) => request.decodeError?.split(":")[0])).toEqual([
      "json",
      "gunzip",
    ]);
  });

  it("answers a scripted status for the next N requests, then the default; or until reset", async () => {
    receiver = await createHttpReceiver();
    receiver.respondWith({ status: 429, headers: { "retry-after": "7" } }, 2);
    const first = await post(receiver.url, "{}");
    expect(first.headers.get("retry-after")).toBe("7");
    const statuses = [
      first.status,
      (await post(receiver.url, "{}")).status,
      (await post(receiver.url, "{}")).status,
    ];
    expect(statuses).toEqual([429, 429, 200]);
    receiver.respondWith({ status: 401 });
    expect([(await post(receiver.url, "{}")).status, (await post(receiver.url, "{}")).status]).toEqual([
      401, 401,
    ]);
    receiver.reset();
    expect((await post(receiver.url, "{}")).status).toBe(200);
    expect(receiver.requests.map((request) => request.status)).toEqual([429, 429, 200, 401, 401, 200]);
  });

  it("answers 413 above a body size and lets a default answer inspect the request", async () => {
    receiver = await createHttpReceiver();
    receiver.setMaxBodyBytes(10);
    receiver.setDefaultAnswer((request) => ({ status: request.path === "/bad" ? 400 : 202 }));
    expect((await post(`${receiver.url}/ok`, "x".repeat(11))).status).toBe(413);
    expect((await post(`${receiver.url}/ok`, "x".repeat(10))).status).toBe(202);
    expect((await post(`${receiver.url}/bad`, "{}")).status).toBe(400);
  });

  it("goes down (connection refused) and comes back on the same port", async () => {
    receiver = await createHttpReceiver();
    const port = receiver.port;
    await post(receiver.url, "{}");
    await receiver.down();
    expect(receiver.isUp).toBe(false);
    const error = await post(receiver.url, "{}").catch(
      (failure: unknown) => failure as Error & { cause?: { code?: string } },
    );
    expect((error as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
    await receiver.up();
    expect(receiver.port).toBe(port);
    expect((await post(receiver.url, "{}")).status).toBe(200);
    expect(receiver.requests).toHaveLength(2);
  });

  it("delays answers, and a never-answered request is cut when the receiver goes down", async () => {
    receiver = await createHttpReceiver();
    receiver.setDelay(60);
    const started = Date.now();
    expect((await post(receiver.url, "{}")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    receiver.setDelay(Number.POSITIVE_INFINITY);
    const hanging = post(receiver.url, "{}").then(
      () => "answered",
      () => "cut",
    );
    await waitFor(() => receiver?.requests.length === 2, 2000);
    expect(receiver.requests[1]?.status).toBe(0);
    await receiver.down();
    expect(await hanging).toBe("cut");
  });
});

describe("waitFor", () => {
  it("resolves once the predicate holds and rejects with the message on timeout", async () => {
    let calls = 0;
    await waitFor(() => ++calls >= 3, 1000, { intervalMs: 1 });
    expect(calls).toBe(3);
    await expect(waitFor(async () => false, 30, { message: "never" })).rejects.toThrow(
      /timed out after 30 ms: never/,
    );
  });
});
