import { describe, expect, it } from "vitest";
import { toCanonicalJson } from "./canonical-json.js";

describe("toCanonicalJson", () => {
  it("sorts keys at every level, keeps array order, writes undefined as null, and applies the options", () => {
    expect(toCanonicalJson({ b: [2, { d: 1, c: undefined }], a: "x" })).toBe(
      '{"a":"x","b":[2,{"c":null,"d":1}]}',
    );
    expect(
      toCanonicalJson(
        { token: "s3cret", url: "http://u:p@h/" },
        { omitKey: (key) => key === "token", mapString: (text) => text.toUpperCase() },
      ),
    ).toBe('{"url":"HTTP://U:P@H/"}');
  });
});
