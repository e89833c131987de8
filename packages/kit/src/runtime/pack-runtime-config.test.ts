/**
 * Config contract of the plugin runtime: every invalid field disables the one extension with one
 * actionable line (never a throw, never a bus subscription), and env fallbacks follow
 * plugin config → env → default.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createFakeHost, type FakeHost } from "../../../testing/src/fake-host.js";
import { type ConfigOf, defineConfig, field } from "../config/define-config.js";
import { packConfigFields } from "../config/pack-config.js";
import type { HealthSnapshot } from "../health/health.js";
import { readEventHubStats, type SubscribeToBus } from "./event-hub.js";
import { createPackPlugin } from "./pack-plugin.js";
import { listRuntimes } from "./runtime-registry.js";

const ENDPOINT_ENV = "CLAWSCOPE_CONFIG_TEST_ENDPOINT";
const testConfig = defineConfig({
  ...packConfigFields,
  endpoint: field.url({
    description: "Where records go.",
    env: [ENDPOINT_ENV],
    default: "http://127.0.0.1:9/default",
  }),
  detail: field.enum({ description: "How much to send.", values: ["basic", "full"], default: "basic" }),
});

const PLUGIN_ID = "clawscope-config";
const hosts: FakeHost[] = [];
let started: ConfigOf<typeof testConfig>[] = [];

async function startWith(pluginConfig: Record<string, unknown>): Promise<FakeHost> {
  const entry = () =>
    createPackPlugin(
      {
        id: PLUGIN_ID,
        name: "config test",
        description: "config test extension",
        config: testConfig,
        start(context) {
          started.push(context.config);
          return {};
        },
      },
      { subscribe: onInternalDiagnosticEvent as SubscribeToBus },
    );
  const host = await createFakeHost(entry, { pluginConfig });
  hosts.push(host);
  await host.startServices();
  return host;
}

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.cleanup();
  started = [];
  vi.unstubAllEnvs();
  expect(listRuntimes()).toEqual([]);
  expect(readEventHubStats()).toBeNull();
});

describe("invalid config", () => {
  it.each([
    ["wrong type", { captureContent: "yes" }, "captureContent", "must be true or false"],
    ["out of range", { flushIntervalMs: 5 }, "flushIntervalMs", "must be an integer between 100 and 300000"],
    ["bad enum", { detail: "everything" }, "detail", 'must be one of "basic", "full"'],
    ["bad URL", { endpoint: "ftp:/nowhere" }, "endpoint", "must be an http or https URL"],
    ["unknown key", { endpont: "http://x.test" }, "endpont", "is not a known option"],
    [
      "nested pricing error",
      { pricing: { "gpt-4o": { input: -1, output: 2 } } },
      "pricing.gpt-4o.input",
      "must be a number >= 0",
    ],
  ])(
    "%s: one line, disabled, reported, no subscription",
    async (_case, pluginConfig, fieldPath, expected) => {
      const host = await startWith(pluginConfig);
      const prefix = `${PLUGIN_ID}: disabled: config field "${fieldPath}" ${expected}`;
      const errors = host.logs.messages("error");
      expect(errors).toHaveLength(1);
      expect(errors[0]?.startsWith(prefix)).toBe(true);
      expect(errors[0]).not.toContain("\n");
      expect(started).toEqual([]);
      expect(readEventHubStats()).toBeNull();
      expect(host.health.failing).toBe(true);
      const failure = host.health.events.at(-1);
      expect(failure?.kind === "failure" && String(failure.error)).toContain(`config field "${fieldPath}"`);

      const answer = await host.callGatewayMethod(`${PLUGIN_ID}.status`);
      const status = answer.payload as HealthSnapshot;
      expect(status.state).toBe("disabled");
      expect(status.disabledReason?.startsWith(`config field "${fieldPath}"`)).toBe(true);
      // the CLI reads the same verdict from disk
      const file = path.join(host.stateDir, "plugins", PLUGIN_ID, "health.json");
      expect(existsSync(file)).toBe(true);
      expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ state: "disabled" });
    },
  );

  it("starts once the config is fixed, and a plugin config that is not an object disables it", async () => {
    const host = await startWith({ flushIntervalMs: 5 });
    expect(started).toEqual([]);
    await host.reloadConfig({ flushIntervalMs: 500 });
    expect(started.map((config) => config.flushIntervalMs)).toEqual([500]);
    expect(host.health.failing).toBe(false);
    expect(((await host.callGatewayMethod(`${PLUGIN_ID}.status`)).payload as HealthSnapshot).state).toBe(
      "running",
    );
    await host.reloadConfig(["not", "an", "object"] as never);
    expect(host.logs.messages("error").at(-1)).toBe(
      `${PLUGIN_ID}: disabled: plugin config must be an object (got a list)`,
    );
    expect(readEventHubStats()).toBeNull();
  });
});

describe("env fallbacks", () => {
  it("uses the plugin config first", async () => {
    vi.stubEnv(ENDPOINT_ENV, "http://from-env.test/x");
    await startWith({ endpoint: "http://from-config.test/x" });
    expect(started[0]?.endpoint).toBe("http://from-config.test/x");
  });

  it("uses the env var when the plugin config leaves the field unset", async () => {
    vi.stubEnv(ENDPOINT_ENV, "http://from-env.test/x");
    await startWith({});
    expect(started[0]?.endpoint).toBe("http://from-env.test/x");
  });

  it("uses the default without either; a malformed endpoint env var disables it with one line, never the default", async () => {
    await startWith({});
    expect(started[0]?.endpoint).toBe("http://127.0.0.1:9/default");
    expect(started[0]?.detail).toBe("basic");
    vi.stubEnv(ENDPOINT_ENV, "not a url");
    const host = await startWith({});
    // a mistyped endpoint must not quietly send the data to the default server
    expect(started).toHaveLength(1);
    const errors = host.logs.messages("error").filter((line) => line.includes(ENDPOINT_ENV));
    expect(errors).toEqual([
      `${PLUGIN_ID}: disabled: config field "endpoint" from env ${ENDPOINT_ENV} must be an http or https URL (got "not a url")`,
    ]);
  });
});
