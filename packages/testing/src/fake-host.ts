/**
 * A fake OpenClaw host for unit and contract tests of our plugins. It mirrors what HOST.md
 * verified on the real gateway: `register(api)` runs several times (`full`, then `discovery`
 * twice) with a fresh api each time; the `full` instance runs services and gateway/session/message
 * hooks, the last `discovery` instance runs agent-run hooks; conversation hooks are dropped at
 * registration without `allowConversationAccess`; a config change stops services, registers
 * again and starts them. The diagnostic bus is not faked: emit on the real SDK bus.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { OpenClawPluginApi, OpenClawPluginService } from "openclaw/plugin-sdk/plugin-entry";
import { type CapturedLogger, createCapturedLogger } from "./captured-logger.js";
import { AGENT_RUN_HOOKS, CONVERSATION_HOOKS, KNOWN_HOOKS } from "./fake-host-hooks.js";

/** What `definePluginEntry` returns, as far as the fake host needs it. */
export interface FakePluginEntry {
  id: string;
  name?: string;
  description?: string;
  register?: (api: never) => unknown;
}

/** An entry, a module whose default export is one, or a loader called once per registration. */
export type FakeEntrySource =
  | FakePluginEntry
  | { default: FakePluginEntry }
  | (() =>
      | FakePluginEntry
      | { default: FakePluginEntry }
      | Promise<FakePluginEntry | { default: FakePluginEntry }>);

/** Registration modes the fake host runs, in order. */
export type FakeRegistrationMode = "full" | "discovery";

/** Options of {@link createFakeHost}. */
export interface FakeHostOptions {
  /** `plugins.entries.<id>.config` (default `{}`). */
  pluginConfig?: Record<string, unknown>;
  /** `plugins.entries.<id>.hooks.allowConversationAccess` (default true). */
  allowConversationAccess?: boolean;
  /** Extra top-level OpenClaw config merged into `ctx.config` (e.g. `{ diagnostics: { enabled: false } }`). */
  hostConfig?: Record<string, unknown>;
  /** Use this state dir instead of a fresh temp dir (then `cleanup` leaves it in place). */
  stateDir?: string;
  /** Registration cycle (default `["full", "discovery", "discovery"]`, as the real gateway). */
  modes?: readonly FakeRegistrationMode[];
}

/** One hook handler as registered. */
export interface RecordedHook {
  name: string;
  handler: (event: unknown, context: unknown) => unknown;
  options?: unknown;
}

/** Everything one `register(api)` call registered. */
export interface FakeRegistration {
  mode: FakeRegistrationMode;
  api: OpenClawPluginApi;
  services: OpenClawPluginService[];
  hooks: RecordedHook[];
  gatewayMethods: Map<string, (options: never) => unknown>;
  cliRegistrars: { registrar: unknown; options: unknown }[];
  httpRoutes: unknown[];
  tools: { tool: unknown; options: unknown }[];
  /** Any other `register*` call: method name and arguments. */
  other: { method: string; args: unknown[] }[];
  /** What `register` threw, if it did (the real host disables the plugin then). */
  registerError?: unknown;
}

/** What {@link FakeHost.fireHook} reports. */
export interface FireHookResult {
  /** The instance whose handlers ran. */
  mode: FakeRegistrationMode | undefined;
  handled: number;
  results: unknown[];
  errors: unknown[];
}

/** A gateway RPC answer, as the `respond` callback received it. */
export interface GatewayCallResult {
  ok: boolean;
  payload?: unknown;
  error?: unknown;
  meta?: Record<string, unknown>;
}

/** One `serviceHealth` call. */
export type HealthEvent = { kind: "failure"; error: unknown; at: number } | { kind: "clear"; at: number };

/** The fake host. */
export interface FakeHost {
  readonly pluginId: string;
  readonly stateDir: string;
  readonly logs: CapturedLogger;
  /** Registrations of the current cycle, in order (`full` first). */
  readonly registrations: readonly FakeRegistration[];
  /** How many register cycles ran (1 after creation, +1 per `reloadConfig`). */
  readonly cycles: number;
  /** `serviceHealth.reportFailure/clearFailure` calls, and whether the last one was a failure. */
  readonly health: { events: HealthEvent[]; readonly failing: boolean };
  /** The whole OpenClaw config services see as `ctx.config`. */
  readonly hostConfig: Record<string, unknown>;
  /** Warnings the host would print about registrations (blocked or unknown hooks). */
  readonly registrationWarnings: string[];
  /** The `full` instance's registration (it runs services, gateway methods, gateway hooks). */
  full(): FakeRegistration | undefined;
  startServices(): Promise<void>;
  stopServices(): Promise<void>;
  /** Like a config change under `plugins.entries.<id>`: stop, register again, start. */
  reloadConfig(pluginConfig: Record<string, unknown>): Promise<void>;
  fireHook(name: string, event: unknown, context?: Record<string, unknown>): Promise<FireHookResult>;
  callGatewayMethod(method: string, params?: Record<string, unknown>): Promise<GatewayCallResult>;
  /** Runs a tool registered by the `full` instance. */
  callTool(name: string, params: unknown, toolCallId?: string): Promise<unknown>;
  /** Stops running services and removes the temp state dir. */
  /**
   * Sends an HTTP request to a route the full instance registered, through a real local server, as
   * the gateway would: `auth: "gateway"` routes need `Authorization: Bearer <FAKE_GATEWAY_TOKEN>`
   * (sent unless `anonymous`), else 401; a path no route takes gets 404.
   */
  callRoute(
    path: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string | Buffer; anonymous?: boolean },
  ): Promise<{ status: number; headers: Record<string, string>; body: string; json?: unknown }>;
  cleanup(): Promise<void>;
}

/** The gateway token the fake host's routes accept. */
export const FAKE_GATEWAY_TOKEN = "fake-gateway-token";

/** Loads the plugin and runs the first registration cycle. */
export async function createFakeHost(
  source: FakeEntrySource,
  options: FakeHostOptions = {},
): Promise<FakeHost> {
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(tmpdir(), "clawscope-fake-host-")));
  await mkdir(stateDir, { recursive: true });
  const modes = options.modes ?? ["full", "discovery", "discovery"];
  const logs = createCapturedLogger();
  const healthEvents: HealthEvent[] = [];
  const registrationWarnings: string[] = [];
  const firstEntry = await loadEntry(source);
  const pluginId = firstEntry.id;
  let pluginConfig = structuredClone(options.pluginConfig ?? {});
  let hostConfig = buildHostConfig();
  let registrations: FakeRegistration[] = [];
  let cycles = 0;
  let running: { service: OpenClawPluginService; context: unknown }[] = [];

  function buildHostConfig(): Record<string, unknown> {
    const extra = structuredClone(options.hostConfig ?? {});
    const plugins = (extra.plugins ?? {}) as Record<string, unknown>;
    const entries = (plugins.entries ?? {}) as Record<string, unknown>;
    return {
      diagnostics: { enabled: true },
      ...extra,
      plugins: {
        ...plugins,
        entries: {
          ...entries,
          [pluginId]: {
            enabled: true,
            hooks: { allowConversationAccess: options.allowConversationAccess ?? true },
            config: structuredClone(pluginConfig),
          },
        },
      },
    };
  }

  async function registerCycle(entryForFirst?: FakePluginEntry): Promise<void> {
    cycles += 1;
    registrations = [];
    for (const [index, mode] of modes.entries()) {
      const entry = index === 0 && entryForFirst ? entryForFirst : await loadEntry(source);
      const registration = createRegistration(mode);
      registrations.push(registration);
      try {
        const returned = (entry.register as ((api: unknown) => unknown) | undefined)?.(registration.api);
        if (returned && typeof (returned as Promise<unknown>).then === "function") {
          registrationWarnings.push(
            `plugin ${pluginId} register returned a promise; the host does not await it`,
          );
          (returned as Promise<unknown>).catch((error: unknown) => {
            registration.registerError = error;
          });
        }
      } catch (error) {
        registration.registerError = error;
        logs.write("error", `[plugins] ${pluginId} failed during register (${mode}): ${describe(error)}`);
      }
    }
  }

  function createRegistration(mode: FakeRegistrationMode): FakeRegistration {
    const registration = {
      mode,
      services: [],
      hooks: [],
      gatewayMethods: new Map(),
      cliRegistrars: [],
      httpRoutes: [],
      tools: [],
      other: [],
    } as unknown as FakeRegistration;
    const allowConversation = options.allowConversationAccess ?? true;
    const known: Record<string, unknown> = {
      id: pluginId,
      name: firstEntry.name ?? pluginId,
      description: firstEntry.description,
      source: path.join(stateDir, "plugin-source", "index.js"),
      rootDir: path.join(stateDir, "plugin-source"),
      registrationMode: mode,
      config: hostConfig,
      pluginConfig: structuredClone(pluginConfig),
      logger: logs.logger,
      runtime: {},
      resolvePath: (input: string) => path.resolve(stateDir, "plugin-source", input),
      on(name: string, handler: RecordedHook["handler"], hookOptions?: unknown) {
        if (!KNOWN_HOOKS.has(name)) {
          registrationWarnings.push(`unknown typed hook "${name}" ignored`);
          return;
        }
        if (CONVERSATION_HOOKS.has(name) && !allowConversation) {
          const warning = `typed hook "${name}" blocked because non-bundled plugins must set plugins.entries.${pluginId}.hooks.allowConversationAccess=true`;
          registrationWarnings.push(warning);
          logs.write("warn", `[plugins] ${pluginId}: ${warning}`);
          return;
        }
        registration.hooks.push({ name, handler, options: hookOptions });
      },
      registerService: (service: OpenClawPluginService) => registration.services.push(service),
      registerGatewayMethod: (method: string, handler: (options: never) => unknown) =>
        registration.gatewayMethods.set(method, handler),
      registerCli: (registrar: unknown, cliOptions?: unknown) =>
        registration.cliRegistrars.push({ registrar, options: cliOptions }),
      registerHttpRoute: (route: unknown) => registration.httpRoutes.push(route),
      registerTool: (tool: unknown, toolOptions?: unknown) =>
        registration.tools.push({ tool, options: toolOptions }),
    };
    // any other register* surface is recorded, so plugins using more of the API do not crash
    registration.api = new Proxy(known, {
      get(target, property) {
        if (typeof property === "string" && !(property in target) && property.startsWith("register")) {
          return (...args: unknown[]) => registration.other.push({ method: property, args });
        }
        return target[property as string];
      },
    }) as unknown as OpenClawPluginApi;
    return registration;
  }

  function serviceContext(): unknown {
    return {
      config: hostConfig,
      stateDir,
      workspaceDir: path.join(stateDir, "workspace"),
      logger: logs.logger,
      serviceHealth: {
        reportFailure: (error: unknown) => healthEvents.push({ kind: "failure", error, at: Date.now() }),
        clearFailure: () => healthEvents.push({ kind: "clear", at: Date.now() }),
      },
    };
  }

  const full = () => registrations.find((registration) => registration.mode === "full");
  let routeServer: RouteServer | undefined;

  async function startServices(): Promise<void> {
    for (const service of full()?.services ?? []) {
      const context = serviceContext();
      try {
        await service.start(context as never);
        running.push({ service, context });
      } catch (error) {
        // the real host logs a failed start and carries on with the other services
        logs.write("error", `[plugins] service ${service.id} failed to start: ${describe(error)}`);
      }
    }
  }

  async function stopServices(): Promise<void> {
    const stopping = running.reverse();
    running = [];
    for (const { service, context } of stopping) {
      try {
        await service.stop?.(context as never);
      } catch (error) {
        logs.write("error", `[plugins] service ${service.id} failed to stop: ${describe(error)}`);
      }
    }
  }

  await registerCycle(firstEntry);

  return {
    pluginId,
    stateDir,
    logs,
    get registrations() {
      return registrations;
    },
    get cycles() {
      return cycles;
    },
    health: {
      events: healthEvents,
      get failing() {
        return healthEvents.at(-1)?.kind === "failure";
      },
    },
    get hostConfig() {
      return hostConfig;
    },
    registrationWarnings,
    full,
    startServices,
    stopServices,
    async reloadConfig(nextConfig) {
      await stopServices();
      pluginConfig = structuredClone(nextConfig);
      hostConfig = buildHostConfig();
      await registerCycle();
      await startServices();
    },
    async fireHook(name, event, context = {}) {
      const discovery = registrations.filter((registration) => registration.mode === "discovery").at(-1);
      const instance = AGENT_RUN_HOOKS.has(name) ? (discovery ?? full()) : full();
      const result: FireHookResult = { mode: instance?.mode, handled: 0, results: [], errors: [] };
      for (const hook of instance?.hooks ?? []) {
        if (hook.name !== name) continue;
        result.handled += 1;
        try {
          result.results.push(await hook.handler(event, context));
        } catch (error) {
          result.errors.push(error);
          logs.write("warn", `[hooks] ${name} handler from ${pluginId} failed: ${describe(error)}`);
        }
      }
      return result;
    },
    callGatewayMethod(method, params = {}) {
      const handler = full()?.gatewayMethods.get(method) as ((options: unknown) => unknown) | undefined;
      if (!handler)
        return Promise.resolve({
          ok: false,
          error: { code: "INVALID_REQUEST", message: `unknown method: ${method}` },
        });
      return new Promise<GatewayCallResult>((resolve) => {
        let settled = false;
        const settle = (result: GatewayCallResult) => {
          if (settled) return;
          settled = true;
          resolve(result);
        };
        const respond = (ok: boolean, payload?: unknown, error?: unknown, meta?: Record<string, unknown>) =>
          settle({ ok, payload, error, meta });
        const request = { type: "req", id: `fake-${Date.now()}`, method, params };
        Promise.resolve()
          .then(() =>
            handler({
              req: request,
              params,
              client: null,
              isWebchatConnect: () => false,
              respond,
              context: {},
            }),
          )
          .then(
            () =>
              settle({
                ok: false,
                error: { code: "UNAVAILABLE", message: `${method} returned without responding` },
              }),
            (error: unknown) =>
              settle({ ok: false, error: { code: "UNAVAILABLE", message: describe(error) } }),
          );
      });
    },
    async callTool(name, params, toolCallId = `call-${Date.now()}`) {
      for (const { tool } of full()?.tools ?? []) {
        const candidates =
          typeof tool === "function" ? [(tool as (context: unknown) => unknown)({})].flat() : [tool];
        for (const candidate of candidates) {
          const typed = candidate as {
            name?: string;
            execute?: (id: string, input: unknown) => unknown;
          } | null;
          if (typed?.name === name && typed.execute) return await typed.execute(toolCallId, params);
        }
      }
      throw new Error(`no tool named ${name} was registered by the full instance`);
    },
    async callRoute(routePath, init = {}) {
      routeServer ??= await startRouteServer(() => full()?.httpRoutes ?? []);
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      if (!init.anonymous) headers.authorization ??= `Bearer ${FAKE_GATEWAY_TOKEN}`;
      const response = await fetch(`${routeServer.url}${routePath}`, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers,
        ...(init.body === undefined ? {} : { body: init.body }),
      });
      const body = await response.text();
      let json: unknown;
      try {
        json = body === "" ? undefined : JSON.parse(body);
      } catch {}
      return { status: response.status, headers: Object.fromEntries(response.headers), body, json };
    },
    async cleanup() {
      await routeServer?.close();
      routeServer = undefined;
      await stopServices();
      if (!options.stateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

interface RouteServer {
  url: string;
  close(): Promise<void>;
}

interface RecordedRoute {
  path: string;
  auth?: string;
  match?: string;
  handler: (request: IncomingMessage, response: ServerResponse) => unknown;
}

/** A local server that routes like the gateway: exact or prefix match, gateway auth, 404 otherwise. */
async function startRouteServer(routes: () => unknown[]): Promise<RouteServer> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const route = (routes() as RecordedRoute[]).find((candidate) =>
      candidate.match === "prefix"
        ? url.pathname === candidate.path || url.pathname.startsWith(`${candidate.path}/`)
        : url.pathname === candidate.path,
    );
    const finish = (status: number) => {
      if (response.writableEnded) return;
      response.statusCode = status;
      response.end();
    };
    if (!route) return finish(404);
    if (route.auth !== "plugin" && request.headers.authorization !== `Bearer ${FAKE_GATEWAY_TOKEN}`) {
      request.resume();
      return finish(401);
    }
    Promise.resolve()
      .then(() => route.handler(request, response))
      .then(
        (handled) => {
          if (handled === false) finish(404);
        },
        () => finish(500),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

async function loadEntry(source: FakeEntrySource): Promise<FakePluginEntry> {
  const loaded = typeof source === "function" ? await source() : source;
  const entry = "default" in loaded && loaded.default ? loaded.default : (loaded as FakePluginEntry);
  if (typeof entry?.id !== "string" || entry.id === "") throw new Error("the plugin entry has no id");
  return entry;
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").slice(0, 500);
}
