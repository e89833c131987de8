import { describe, expect, it } from "vitest";
import { MLFLOW_LIMITS, sanitizeMlflowKey, toMlflowValue } from "./limits.js";

/** Python's `posixpath.normpath`, which MLflow uses to refuse keys that are not unique paths. */
function pythonNormpath(path: string): string {
  if (path === "") return ".";
  const initial = path.startsWith("/") ? (path.startsWith("//") && !path.startsWith("///") ? 2 : 1) : 0;
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== ".." || (initial === 0 && out.length === 0) || out.at(-1) === "..") out.push(part);
    else if (out.length > 0) out.pop();
  }
  return "/".repeat(initial) + out.join("/") || ".";
}

/** MLflow's checks for metric, param and tag keys (`mlflow/utils/validation.py`). */
function mlflowAccepts(key: string): boolean {
  const norm = pythonNormpath(key);
  const pathNotUnique = norm !== key || norm === "." || norm.startsWith("..") || norm.startsWith("/");
  return /^[/\w.\- :]*$/.test(key) && !pathNotUnique && key.length <= MLFLOW_LIMITS.maxKeyLength;
}

describe("sanitizeMlflowKey", () => {
  it("keeps keys MLflow already accepts", () => {
    for (const key of ["tokens.input", "model/gpt-4o", "llama3:8b latency_ms", "a-b_c.d/e f"]) {
      expect(sanitizeMlflowKey(key)).toEqual({ key, changed: false });
    }
  });

  it("replaces characters outside MLflow's set with one underscore each", () => {
    expect(sanitizeMlflowKey("cost{usd}")).toEqual({ key: "cost_usd_", changed: true });
    expect(sanitizeMlflowKey("model@vertex")).toEqual({ key: "model_vertex", changed: true });
    // an astral character is one code point: one underscore, no half surrogate
    expect(sanitizeMlflowKey("emoji😀x").key).toBe("emoji_x");
    expect(sanitizeMlflowKey("módel").key).toBe("m_del");
  });

  it("puts keys in the path form MLflow requires", () => {
    expect(sanitizeMlflowKey("/abs/key").key).toBe("abs/key");
    expect(sanitizeMlflowKey("a//b").key).toBe("a/b");
    expect(sanitizeMlflowKey("a/./b/").key).toBe("a/b");
    expect(sanitizeMlflowKey("a/../b").key).toBe("a/__/b");
    expect(sanitizeMlflowKey("..hidden").key).toBe("_.hidden");
    expect(sanitizeMlflowKey("").key).toBe("_");
    expect(sanitizeMlflowKey("/").key).toBe("_");
    expect(sanitizeMlflowKey(".").key).toBe("_");
  });

  it("cuts long keys to the limit with a hash suffix that is stable and keeps keys apart", () => {
    const prefix = "k".repeat(300);
    const first = sanitizeMlflowKey(`${prefix}-one`);
    const second = sanitizeMlflowKey(`${prefix}-two`);
    expect(first.key).toHaveLength(250);
    expect(first.changed).toBe(true);
    expect(first.key).toMatch(/^k+_[0-9a-f]{8}$/);
    expect(first.key).not.toBe(second.key);
    expect(sanitizeMlflowKey(`${prefix}-one`).key).toBe(first.key);
  });

  it("returns keys MLflow accepts for hostile input", () => {
    const inputs = [
      "",
      "/",
      "//",
      "..",
      "../..",
      "a/..",
      "...x",
      "./x",
      "x/.",
      " / ",
      "a\u0000b",
      "\n",
      "日本語/キー",
      `${"/".repeat(100)}${"é".repeat(400)}`,
      `${"a/".repeat(200)}`,
      `${"x".repeat(249)}/`,
    ];
    for (const input of inputs) {
      const { key } = sanitizeMlflowKey(input);
      expect(mlflowAccepts(key), `${JSON.stringify(input)} → ${JSON.stringify(key)}`).toBe(true);
    }
  });
});

describe("toMlflowValue", () => {
  it("keeps values within the limit and prints non-strings", () => {
    expect(toMlflowValue("short", 10)).toEqual({ value: "short", truncated: false });
    expect(toMlflowValue(42, 10).value).toBe("42");
    expect(toMlflowValue(true, 10).value).toBe("true");
    expect(toMlflowValue(null, 10).value).toBe("");
    expect(toMlflowValue({ a: [1, 2] }, 100).value).toBe('{"a":[1,2]}');
  });

  it("cuts with a marker that states the original length, within the limit", () => {
    const fitted = toMlflowValue("x".repeat(9000), MLFLOW_LIMITS.maxTagValueLength);
    expect(fitted.truncated).toBe(true);
    expect(fitted.value.length).toBeLessThanOrEqual(8000);
    expect(fitted.value.endsWith("…[truncated, 9000 chars]")).toBe(true);
    expect(fitted.value.startsWith("xxxx")).toBe(true);
  });

  it("never leaves half a surrogate pair", () => {
    const text = "😀".repeat(4000);
    const fitted = toMlflowValue(text, 6000);
    expect(fitted.value.length).toBeLessThanOrEqual(6000);
    expect(() => encodeURIComponent(fitted.value)).not.toThrow();
  });

  it("does not throw on circular objects", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(toMlflowValue(circular, 100).value).toBe("[object Object]");
  });
});
