/**
 * Provider failures the knowledge-base e2e tests script on the mock provider: messages of one
 * cause that differ only in numbers and request ids. (A context-overflow message would make the host
 * compact and retry, and a 401 would put the provider's auth profile in cooldown for the following
 * turns: both real behaviours, not what these tests are about.)
 */
import type { MockStep } from "./mock-reply.js";

const hex = (length: number) =>
  Array.from({ length }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");

/** A 400 for a temperature out of range; `value` and a random request id vary. */
export const badTemperature = (value: number): MockStep => ({
  kind: "error",
  status: 400,
  message: `Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got ${value} instead. (request id req_${hex(24)})`,
});

/** A 422 for a tool schema the provider refuses; the function's name and a request id vary. */
export const badSchema = (index: number): MockStep => ({
  kind: "error",
  status: 422,
  message: `Invalid schema for function 'tool_${index}': In context=('properties', 'limit'), 'minimum' is not permitted. See https://platform.openai.com/docs/guides/function-calling?req=${hex(16)}`,
});
