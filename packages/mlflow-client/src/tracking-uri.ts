/** Reads a tracking URI into the base URL requests go to, lifting any `user:password@` out of it. */
import { MlflowError } from "./mlflow-error.js";

/** A parsed tracking URI. */
export interface ParsedTrackingUri {
  /** `http(s)://host[:port][/prefix]` without credentials, query or trailing slash. */
  baseUrl: string;
  username?: string;
  password?: string;
}

/**
 * Parses an MLflow tracking URI. Only `http:` and `https:` are accepted (`databricks`, `file:` and
 * `sqlite:` URIs are for the Python client). A path prefix is kept for servers behind a proxy.
 * Throws an `invalid-argument` MlflowError that does not echo credentials.
 */
export function parseTrackingUri(trackingUri: unknown): ParsedTrackingUri {
  if (typeof trackingUri !== "string" || trackingUri.trim() === "") {
    throw invalid("MLflow tracking URI is empty; set trackingUri or MLFLOW_TRACKING_URI (http://host:5000)");
  }
  let url: URL;
  try {
    url = new URL(trackingUri.trim());
  } catch {
    throw invalid("MLflow tracking URI is not a URL; expected http(s)://host:port");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(
      `MLflow tracking URI scheme '${url.protocol}' is not supported; expected http(s)://host:port`,
    );
  }
  const username = url.username === "" ? undefined : decodeURIComponent(url.username);
  const password = url.password === "" ? undefined : decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  url.search = "";
  url.hash = "";
  const baseUrl = url.toString().replace(/\/+$/, "");
  return {
    baseUrl,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}

function invalid(message: string): MlflowError {
  return new MlflowError({ kind: "invalid-argument", status: 0, errorCode: "INVALID_TRACKING_URI", message });
}
