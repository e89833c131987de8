import { resolveConfig, resolveGatewayIdentity } from "@clawscope/kit";
import { describe, expect, it } from "vitest";
import { configDefinition, DEFAULT_TRACKING_URI } from "./config.js";

describe("clawscope-mlflow config", () => {
  it("defaults to a local server and the openclaw experiment", () => {
    const { config } = resolveConfig(configDefinition, {}, {});
    expect(config.trackingUri).toBe(DEFAULT_TRACKING_URI);
    expect(config.experimentName).toBe("openclaw");
    expect(config.token).toBeUndefined();
  });

  it("reads MLflow's own env vars when the plugin config leaves a field unset", () => {
    const env = {
      MLFLOW_TRACKING_URI: "http://mlflow.internal:8080",
      MLFLOW_EXPERIMENT_NAME: "gateways",
      MLFLOW_TRACKING_TOKEN: "tok",
    };
    const { config } = resolveConfig(configDefinition, {}, env);
    expect(config).toMatchObject({
      trackingUri: "http://mlflow.internal:8080",
      experimentName: "gateways",
      token: "tok",
    });
    const explicit = resolveConfig(configDefinition, { experimentName: "mine" }, env).config;
    expect(explicit.experimentName).toBe("mine");
  });

  it("traces every turn by default and takes a sampling ratio between 0 and 1", () => {
    const { config } = resolveConfig(configDefinition, {}, {});
    expect(config.traces).toBe(true);
    expect(config.sampling.ratio).toBe(1);
    const tuned = resolveConfig(configDefinition, { traces: false, sampling: { ratio: 0.25 } }, {}).config;
    expect(tuned).toMatchObject({ traces: false, sampling: { ratio: 0.25 } });
    expect(() => resolveConfig(configDefinition, { sampling: { ratio: 2 } }, {})).toThrow();
  });

  it("names the gateway after the host unless configured (the kit's gateway identity reads gatewayName)", () => {
    expect(resolveGatewayIdentity("gw-a", "/state", {}).name).toBe("gw-a");
    expect(resolveGatewayIdentity(undefined, "/state", {}).name.length).toBeGreaterThan(0);
    expect(resolveGatewayIdentity(undefined, "/state", { CLAWSCOPE_GATEWAY_NAME: "gw-env" }).name).toBe(
      "gw-env",
    );
  });
});
