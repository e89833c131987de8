/**
 * A config value as JSON with its object keys sorted, so a hash of it does not depend on key order.
 * `omitKey` leaves keys out (secrets); `mapString` rewrites strings first (URL credentials masked).
 * An undefined value is written as `null`.
 */
export function toCanonicalJson(
  value: unknown,
  options: { omitKey?: (key: string) => boolean; mapString?: (text: string) => string } = {},
): string {
  const write = (item: unknown): string => {
    if (Array.isArray(item)) return `[${item.map(write).join(",")}]`;
    if (item !== null && typeof item === "object") {
      const record = item as Record<string, unknown>;
      const entries = Object.keys(record)
        .filter((key) => !options.omitKey?.(key))
        .sort()
        .map((key) => `${JSON.stringify(key)}:${write(record[key])}`);
      return `{${entries.join(",")}}`;
    }
    if (typeof item === "string" && options.mapString) return JSON.stringify(options.mapString(item));
    return JSON.stringify(item) ?? "null";
  };
  return write(value);
}
