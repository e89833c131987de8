/**
 * Langfuse's HTTP Basic auth for the public API (public key as user, secret key as password), with
 * the 401 messages its server answers, so a client can tell which key is wrong.
 */

/** One API key pair of a Langfuse project. */
export interface LangfuseCredentials {
  /** `pk-lf-…` */
  publicKey: string;
  /** `sk-lf-…` */
  secretKey: string;
}

const HOST_HINT = ". Confirm that you've configured the correct host.";

/** The `message` of Langfuse's 401 bodies (`{ "message": … }`), by cause. */
export const LANGFUSE_AUTH_MESSAGES = {
  missingHeader: "No authorization header",
  notBasic: "Invalid authorization header",
  malformedBasic: `Invalid authorization header${HOST_HINT}`,
  unknownPublicKey: `Invalid public key${HOST_HINT}`,
  wrongSecretKey: `Invalid credentials${HOST_HINT}`,
} as const;

export type LangfuseAuthFailure = keyof typeof LANGFUSE_AUTH_MESSAGES;

export type LangfuseAuthResult =
  | { ok: true; publicKey: string }
  | { ok: false; failure: LangfuseAuthFailure; message: string; publicKey?: string };

/**
 * Checks an `Authorization` header against the project's key pairs: an unknown public key and a
 * wrong secret key fail with different messages, as Langfuse's do.
 */
export function checkLangfuseAuth(
  header: string | undefined,
  credentials: readonly LangfuseCredentials[],
): LangfuseAuthResult {
  if (header === undefined || header === "") return fail("missingHeader");
  if (!header.startsWith("Basic ")) return fail("notBasic");
  const decoded = Buffer.from(header.slice("Basic ".length).trim(), "base64").toString("utf8");
  const separator = decoded.indexOf(":");
  const publicKey = separator < 0 ? decoded : decoded.slice(0, separator);
  const secretKey = separator < 0 ? "" : decoded.slice(separator + 1);
  if (publicKey === "" || secretKey === "") return fail("malformedBasic");
  const pair = credentials.find((candidate) => candidate.publicKey === publicKey);
  if (!pair) return fail("unknownPublicKey", publicKey);
  if (pair.secretKey !== secretKey) return fail("wrongSecretKey", publicKey);
  return { ok: true, publicKey };
}

/** `Basic base64(publicKey:secretKey)`, as the SDK sends it. */
export function toLangfuseBasicAuth(credentials: LangfuseCredentials): string {
  return `Basic ${Buffer.from(`${credentials.publicKey}:${credentials.secretKey}`).toString("base64")}`;
}

function fail(failure: LangfuseAuthFailure, publicKey?: string): LangfuseAuthResult {
  return {
    ok: false,
    failure,
    message: LANGFUSE_AUTH_MESSAGES[failure],
    ...(publicKey === undefined ? {} : { publicKey }),
  };
}
