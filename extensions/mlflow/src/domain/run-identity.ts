/**
 * What a run says about the gateway process behind it: tags to find and compare runs (gateway,
 * host, versions, agents, channels) and the effective config as params, secrets already redacted
 * by the caller. Pure; the MLflow client truncates over-long values.
 */
import type { GatewayIdentity } from "@clawscope/kit";

/** Tag keys this extension sets on its runs. */
export const RUN_TAGS = {
  gateway: "clawscope.gateway",
  gatewayInstance: "clawscope.gateway_instance",
  packVersion: "clawscope.pack_version",
  gatewayVersion: "openclaw.version",
  host: "host.name",
  agents: "openclaw.agents",
  channels: "openclaw.channels",
  pid: "process.pid",
} as const;

/** Inputs of {@link toRunTags}. */
export interface RunIdentityInput {
  /** The kit's gateway identity: two gateways with one name but separate state never share an id. */
  gateway: GatewayIdentity;
  hostName: string;
  packVersion: string;
  gatewayVersion?: string | undefined;
  /** The whole host config (`ctx.config`), read for agent and channel names. */
  hostConfig: unknown;
  pid: number;
}

const MAX_NAMES = 50;

/** The run's tags (all strings). */
export function toRunTags(input: RunIdentityInput): Record<string, string> {
  const tags: Record<string, string> = {
    [RUN_TAGS.gateway]: input.gateway.name,
    [RUN_TAGS.gatewayInstance]: input.gateway.id,
    [RUN_TAGS.packVersion]: input.packVersion,
    [RUN_TAGS.host]: input.hostName,
    [RUN_TAGS.pid]: String(input.pid),
    "mlflow.source.name": "openclaw-gateway",
    "mlflow.source.type": "LOCAL",
  };
  if (input.gatewayVersion) tags[RUN_TAGS.gatewayVersion] = input.gatewayVersion;
  const agents = readAgentIds(input.hostConfig);
  if (agents.length > 0) tags[RUN_TAGS.agents] = agents.join(",");
  const channels = readChannelNames(input.hostConfig);
  if (channels.length > 0) tags[RUN_TAGS.channels] = channels.join(",");
  return tags;
}

/** Configured agent ids (`agents.list[].id`), sorted, at most 50. */
export function readAgentIds(hostConfig: unknown): string[] {
  const agents = readRecord(readRecord(hostConfig)?.agents);
  const list = Array.isArray(agents?.list) ? agents.list : [];
  const ids = list.map((entry) => readRecord(entry)?.id).filter(isName);
  return [...new Set(ids)].sort().slice(0, MAX_NAMES);
}

/** Configured channels (`channels.<name>`, skipping `defaults`), sorted, at most 50. */
export function readChannelNames(hostConfig: unknown): string[] {
  const channels = readRecord(readRecord(hostConfig)?.channels);
  if (!channels) return [];
  return Object.keys(channels)
    .filter((name) => name !== "defaults" && isName(name))
    .sort()
    .slice(0, MAX_NAMES);
}

/**
 * Params from a config already redacted for display: one param per leaf, dotted keys, objects
 * and arrays below the second level as JSON. Undefined values are left out.
 */
export function toRunParams(redactedConfig: Record<string, unknown>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(redactedConfig)) {
    if (value === undefined) continue;
    if (readRecord(value) && key !== "pricing") {
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) {
        if (innerValue !== undefined) params[`${key}.${inner}`] = toParamValue(innerValue);
      }
    } else params[key] = toParamValue(value);
  }
  return params;
}

function toParamValue(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function readRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isName(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 200;
}
