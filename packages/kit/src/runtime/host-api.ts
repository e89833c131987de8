/**
 * The structural slice of the OpenClaw plugin API the pack uses. Extensions pass the real objects
 * in from their `src/api.ts`; tests pass the fake host from `@clawscope/testing`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KitLogger } from "./logger.js";

/** The host's service context (`OpenClawPluginServiceContext`), as far as the pack reads it. */
export interface HostServiceContext {
  config?: unknown;
  stateDir: string;
  workspaceDir?: string;
  logger: KitLogger;
  serviceHealth?: { reportFailure: (error: unknown) => void; clearFailure: () => void };
}

/** A gateway RPC handler's options: the pack reads params and answers through respond. */
export interface HostGatewayRequest {
  params?: unknown;
  respond: (ok: boolean, payload?: unknown, error?: unknown) => void;
}

/** The host's plugin API (`OpenClawPluginApi`), as far as the pack calls it. */
export interface HostPluginApi {
  id?: string;
  pluginConfig?: unknown;
  /** The whole OpenClaw config at registration time. */
  config?: unknown;
  registrationMode?: string;
  logger: KitLogger;
  on: (hookName: string, handler: (event: unknown, context: unknown) => unknown) => void;
  registerService: (service: {
    id: string;
    reload?: { configPrefixes: readonly string[] };
    start: (context: HostServiceContext) => void | Promise<void>;
    stop?: (context: HostServiceContext) => void | Promise<void>;
  }) => void;
  registerGatewayMethod?: (
    method: string,
    handler: (request: HostGatewayRequest) => void | Promise<void>,
  ) => void;
  registerHttpRoute?: (route: {
    path: string;
    auth: "gateway" | "plugin";
    match?: "exact" | "prefix";
    handler: (
      request: IncomingMessage,
      response: ServerResponse,
    ) => Promise<boolean | undefined> | boolean | undefined;
  }) => void;
  registerTool?: (tool: {
    name: string;
    label?: string;
    description: string;
    parameters: Record<string, unknown>;
    execute: (toolCallId: string, params: unknown) => Promise<unknown>;
  }) => void;
  registerCli?: (
    registrar: (context: { program: unknown }) => void | Promise<void>,
    options?: {
      /** Registers under an existing command (`["clawscope"]`): `openclaw clawscope <command>`. */
      parentPath?: string[];
      commands?: string[];
      descriptors?: Array<Record<string, unknown>>;
    },
  ) => void;
}
