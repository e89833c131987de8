/**
 * HTTP routes on the gateway port and agent tools, through the kit. The host takes routes and tools
 * at registration, before any service starts; an extension's handlers need its running state (a
 * store, a cache). So the spec declares each route's path and auth and each tool's name and schema;
 * the kit registers those with the host, and at start the extension binds a handler to each through
 * the start context (`registerHttpRoute`, `registerTool`). A request finds the handler of the
 * running instance through the runtime registry; while the extension is stopped or disabled a route
 * answers 503 and a tool says so.
 *
 * Nothing thrown by a handler reaches the gateway: a route answers 500 with a JSON error (and the
 * extension logs it, rate-limited), a tool returns the error as its text. Request bodies are read up
 * to a bound (413 beyond it), JSON is parsed for the handler (400 when it is not JSON).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describeError } from "./describe-error.js";
import type { HostPluginApi } from "./host-api.js";
import type { PackLogger } from "./logger.js";
import { readRuntime } from "./runtime-registry.js";

/** A route an extension declares in its spec: registered with the host at registration. */
export interface PackRouteSpec {
  /** Absolute path on the gateway port, under `/clawscope/` (`/clawscope/kb/patterns`). */
  path: string;
  /** `gateway` (default): the gateway token is required. `plugin`: open; the handler authenticates. */
  auth?: "gateway" | "plugin";
  /** `prefix` also takes the paths below `path`. Default `exact`. */
  match?: "exact" | "prefix";
  /** Largest request body read (default 64 KiB); larger ones get `tooLargeStatus`. */
  maxBodyBytes?: number;
  /** The status a body over `maxBodyBytes` gets: 413 (default), or 400 where the API promises 400 for every bad request. */
  tooLargeStatus?: 400 | 413;
}

/** A request as a route handler sees it. */
export interface PackHttpRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: URLSearchParams;
  /** Without `authorization` and `cookie`, except on `auth: "plugin"` routes, which check them. */
  headers: Record<string, string | undefined>;
  /**
   * The body parsed as JSON when it was sent as JSON, else its text; undefined when empty. Invalid
   * JSON gets 400 before the handler, except on `auth: "plugin"` routes, which get the text.
   */
  body: unknown;
}

/** What a route handler answers: JSON by default, or text. */
export interface PackHttpResponse {
  status?: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A route handler bound at start. */
export type PackHttpHandler = (request: PackHttpRequest) => PackHttpResponse | Promise<PackHttpResponse>;

/** A tool an extension declares in its spec (also listed in `openclaw.plugin.json` `contracts.tools`). */
export interface PackToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the parameters. */
  parameters: Record<string, unknown>;
}

/** A tool's implementation bound at start: returns text, or a value shown as JSON. */
export type PackToolExecute = (params: unknown, call: { toolCallId: string }) => unknown | Promise<unknown>;

/** The handlers a running extension bound, looked up by the host-facing dispatchers. */
export interface SurfaceTable {
  bindRoute(path: string, handler: PackHttpHandler): void;
  bindTool(name: string, execute: PackToolExecute): void;
  route(path: string): PackHttpHandler | undefined;
  tool(name: string): PackToolExecute | undefined;
}

const DEFAULT_MAX_BODY = 64 * 1024;
const MAX_TOOL_TEXT = 100_000;

/** The table of one start; binding a path or name the spec does not declare throws. */
export function createSurfaceTable(declared: {
  routes?: readonly PackRouteSpec[];
  tools?: readonly PackToolSpec[];
}): SurfaceTable {
  const routes = new Map<string, PackHttpHandler>();
  const tools = new Map<string, PackToolExecute>();
  const routePaths = new Set((declared.routes ?? []).map((route) => route.path));
  const toolNames = new Set((declared.tools ?? []).map((tool) => tool.name));
  return {
    bindRoute(path, handler) {
      if (!routePaths.has(path)) {
        throw new Error(
          `route ${path} is not declared in the plugin spec (routes), so the host does not serve it`,
        );
      }
      if (typeof handler !== "function") throw new Error(`route ${path}: the handler must be a function`);
      routes.set(path, handler);
    },
    bindTool(name, execute) {
      if (!toolNames.has(name)) {
        throw new Error(
          `tool ${name} is not declared in the plugin spec (tools), so the host does not offer it`,
        );
      }
      if (typeof execute !== "function") throw new Error(`tool ${name}: execute must be a function`);
      tools.set(name, execute);
    },
    route: (path) => routes.get(path),
    tool: (name) => tools.get(name),
  };
}

/** Registers the spec's routes and tools with the host; each dispatches to the running instance. */
export function registerDeclaredSurfaces(
  pluginId: string,
  declared: { routes?: readonly PackRouteSpec[]; tools?: readonly PackToolSpec[] },
  api: HostPluginApi,
  logger: PackLogger,
): void {
  for (const route of declared.routes ?? []) {
    if (!api.registerHttpRoute) break;
    api.registerHttpRoute({
      path: route.path,
      auth: route.auth ?? "gateway",
      match: route.match ?? "exact",
      handler: (request: IncomingMessage, response: ServerResponse) =>
        serveRoute(pluginId, route, request, response, logger),
    });
  }
  for (const tool of declared.tools ?? []) {
    if (!api.registerTool) break;
    api.registerTool({
      name: tool.name,
      label: tool.name,
      description: tool.description,
      parameters: tool.parameters,
      execute: (toolCallId: string, params: unknown) =>
        runTool(pluginId, tool.name, toolCallId, params, logger),
    });
  }
}

/** Serves one request; resolves true (handled) and never rejects. */
export async function serveRoute(
  pluginId: string,
  route: PackRouteSpec,
  request: IncomingMessage,
  response: ServerResponse,
  logger: PackLogger,
): Promise<boolean> {
  try {
    const handler = readRuntime(pluginId)?.surfaces?.route(route.path);
    if (!handler) {
      send(response, { status: 503, json: { error: `${pluginId} is not running` } });
      return true;
    }
    const url = new URL(request.url ?? "/", "http://gateway.invalid");
    const read = await readBody(request, route.maxBodyBytes ?? DEFAULT_MAX_BODY);
    if (read.tooLarge) {
      send(response, {
        status: route.tooLargeStatus ?? 413,
        json: { error: `request body over ${route.maxBodyBytes ?? DEFAULT_MAX_BODY} bytes` },
      });
      return true;
    }
    const contentType = String(request.headers["content-type"] ?? "");
    let body: unknown;
    if (read.text.length > 0) {
      if (/\bjson\b/i.test(contentType)) {
        try {
          body = JSON.parse(read.text);
        } catch {
          // a route that authenticates its callers itself must answer 401 before judging the body
          if (route.auth === "plugin") body = read.text;
          else {
            send(response, { status: 400, json: { error: "request body is not valid JSON" } });
            return true;
          }
        }
      } else body = read.text;
    }
    const headers: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(request.headers)) {
      // the caller's credentials are the host's business, never the handler's, unless the route
      // authenticates its callers itself (`auth: "plugin"`)
      if (key === "cookie" || (key === "authorization" && route.auth !== "plugin")) continue;
      headers[key] = Array.isArray(value) ? value.join(", ") : value;
    }
    const answer = await handler({
      method: (request.method ?? "GET").toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers,
      body,
    });
    send(response, answer ?? { status: 204 });
  } catch (error) {
    const message = `route ${route.path} failed: ${describeError(error)}`;
    try {
      logger.limited("error", `route:${route.path}`, message);
      readRuntime(pluginId)?.recordError?.(message);
    } catch {}
    try {
      send(response, { status: 500, json: { error: "internal error", route: route.path } });
    } catch {}
  }
  return true;
}

/** Runs one tool call; resolves a tool result and never rejects. */
export async function runTool(
  pluginId: string,
  name: string,
  toolCallId: string,
  params: unknown,
  logger: PackLogger,
): Promise<{ content: Array<{ type: "text"; text: string }>; details?: unknown }> {
  const text = (value: string) => ({
    content: [{ type: "text" as const, text: value.slice(0, MAX_TOOL_TEXT) }],
  });
  try {
    const execute = readRuntime(pluginId)?.surfaces?.tool(name);
    if (!execute) return text(`${name} is unavailable: ${pluginId} is not running`);
    const result = await execute(params, { toolCallId });
    if (typeof result === "string") return text(result);
    return { ...text(JSON.stringify(result ?? null, null, 2)), details: result };
  } catch (error) {
    const message = `tool ${name} failed: ${describeError(error)}`;
    try {
      logger.limited("error", `tool:${name}`, message);
      readRuntime(pluginId)?.recordError?.(message);
    } catch {}
    return text(`${name} failed: ${describeError(error)}`);
  }
}

function send(response: ServerResponse, answer: PackHttpResponse): void {
  if (response.headersSent || response.writableEnded) return;
  const status =
    Number.isInteger(answer.status) && (answer.status ?? 0) >= 100 ? (answer.status as number) : 200;
  const isText = answer.text !== undefined;
  const payload = isText
    ? (answer.text as string)
    : answer.json === undefined
      ? ""
      : JSON.stringify(answer.json);
  response.statusCode = status;
  for (const [key, value] of Object.entries(answer.headers ?? {})) response.setHeader(key, value);
  if (payload !== "") {
    response.setHeader(
      "content-type",
      answer.contentType ?? (isText ? "text/plain; charset=utf-8" : "application/json; charset=utf-8"),
    );
  }
  response.setHeader("cache-control", "no-store");
  response.end(payload);
}

/** Reads a body up to `limit` bytes; past it, stops reading and says so. */
function readBody(request: IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.resolve({ text: "", tooLarge: true });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: { text: string; tooLarge: boolean }) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    request.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        request.resume();
        finish({ text: "", tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => finish({ text: Buffer.concat(chunks).toString("utf8"), tooLarge: false }));
    request.on("error", () => finish({ text: "", tooLarge: false }));
  });
}
