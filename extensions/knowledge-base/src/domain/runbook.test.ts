import { describe, expect, it } from "vitest";
import { matchRunbook } from "./runbook.js";

const ids = (entry: Parameters<typeof matchRunbook>[0]) => matchRunbook(entry).map((item) => item.id);

describe("the built-in runbook", () => {
  it("answers every provider 400 or 422 with the invalid-request item, even without the error text", () => {
    expect(ids({ kind: "provider_error", status: 400, category: "Error", message: "" })).toEqual([
      "invalid-request",
    ]);
    expect(
      ids({ kind: "provider_error", status: 422, message: "Invalid schema for function 'x'" }),
    ).toContain("invalid-request");
    // a context overflow is a 400 too: both apply, the overflow first
    expect(
      ids({ kind: "provider_error", status: 400, message: "maximum context length is <n> tokens" }).slice(
        0,
        2,
      ),
    ).toEqual(["context-overflow", "invalid-request"]);
    // a tool's 400 is not the provider's
    expect(ids({ kind: "tool_error", status: 400, message: "invalid_request_error" })).not.toContain(
      "invalid-request",
    );
  });

  it("matches by status, words and kind", () => {
    expect(ids({ kind: "provider_error", status: 429, message: "" })).toEqual(["rate-limit"]);
    expect(ids({ kind: "export_failure", category: "retried", message: "HTTP 503" })).toContain(
      "export-failure",
    );
    expect(ids({ kind: "tool_loop", message: "warning" })).toEqual(["tool-loop"]);
  });
});
