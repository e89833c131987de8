import { describeError as describeKitError } from "@clawscope/kit";
import { describeMlflowError, isMlflowError } from "./mlflow-client.js";

/** One line for a log: MLflow's own description for its errors, else the message. Never throws. */
export function describeError(error: unknown): string {
  try {
    if (isMlflowError(error)) return describeMlflowError(error);
    return describeKitError(error);
  } catch {
    return "unknown error";
  }
}
