import { redactConfigForDisplay, resolveConfig, resolveGatewayIdentity } from "@clawscope/kit";
import { describe, expect, it } from "vitest";
import { configDefinition } from "../config.js";
import { readAgentIds, readChannelNames, toRunParams, toRunTags } from "./run-identity.js";

describe("run identity", () => {
  const hostConfig = {
    agents: { list: [{ id: "support" }, { id: "main" }, { id: 7 }, null] },
    channels: { defaults: {}, telegram: { enabled: true }, discord: {} },
  };

  it("tags the run with gateway, instance, versions, host, agents and channels", () => {
    const tags = toRunTags({
      gateway: resolveGatewayIdentity("gw-a", "/state/a", {}),
      hostName: "box",
      packVersion: "0.1.0",
      gatewayVersion: "2026.9.6",
      hostConfig,
      pid: 42,
    });
    expect(tags).toMatchObject({
      "clawscope.gateway": "gw-a",
      "clawscope.gateway_instance": resolveGatewayIdentity("gw-a", "/state/a", {}).id,
      "clawscope.pack_version": "0.1.0",
      "openclaw.version": "2026.9.6",
      "host.name": "box",
      "openclaw.agents": "main,support",
      "openclaw.channels": "discord,telegram",
      "process.pid": "42",
    });
  });

  it("gives one name in two state dirs two identities, safe inside a search filter", () => {
    const a = resolveGatewayIdentity("gw 'x'", "/state/a", {}).id;
    const b = resolveGatewayIdentity("gw 'x'", "/state/b", {}).id;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[\w.\- :@]+$/);
    expect(resolveGatewayIdentity("gw 'x'", "/state/a", {}).id).toBe(a);
  });

  it("tolerates host configs without agents or channels", () => {
    for (const config of [undefined, null, 3, { agents: "x", channels: [] }]) {
      expect(readAgentIds(config)).toEqual([]);
      expect(readChannelNames(config)).toEqual([]);
    }
  });

  it("turns the effective config into params with secrets redacted", () => {
    const { config } = resolveConfig(
      configDefinition,
      { token: "s3cret-token-value", experimentName: "exp", pricing: { m: { input: 1, output: 2 } } },
      {},
    );
    const params = toRunParams(redactConfigForDisplay(configDefinition, config));
    expect(params.token).toBe("[redacted]");
    expect(JSON.stringify(params)).not.toContain("s3cret");
    expect(params.experimentName).toBe("exp");
    expect(params.flushIntervalMs).toBe("5000");
    expect(JSON.parse(params.pricing ?? "{}")).toEqual({ m: { input: 1, output: 2 } });
  });
});
