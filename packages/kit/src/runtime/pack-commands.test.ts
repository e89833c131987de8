import { afterEach, describe, expect, it, vi } from "vitest";
import { defineConfig, field } from "../config/define-config.js";
import type { HostPluginApi } from "./host-api.js";
import { addContributedCommands, type PackCommandSpec, registerPackCommands } from "./pack-commands.js";

/** Just enough of commander: named subcommands with options and an action. */
class FakeCommand {
  readonly commands: FakeCommand[] = [];
  handler?: (options: Record<string, unknown>) => Promise<void>;
  constructor(private readonly commandName: string) {}
  name = () => this.commandName;
  command(name: string) {
    const child = new FakeCommand(name);
    this.commands.push(child);
    return child;
  }
  description = () => this;
  option = () => this;
  action(handler: (options: Record<string, unknown>) => Promise<void>) {
    this.handler = handler;
    return this;
  }
}

const definition = defineConfig({ label: field.string({ description: "A label.", default: "none" }) });

function apiWith(pluginConfig: unknown) {
  const registrars: { registrar: (context: { program: unknown }) => void; parentPath?: string[] }[] = [];
  const api = {
    pluginConfig,
    registerCli: (registrar: (context: { program: unknown }) => void, options?: { parentPath?: string[] }) =>
      registrars.push({ registrar, ...(options?.parentPath ? { parentPath: options.parentPath } : {}) }),
  } as unknown as HostPluginApi;
  return { api, registrars };
}

describe("registerPackCommands", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it("puts a subcommand under `clawscope` once, whichever of the two paths runs first, and runs it with the resolved config", async () => {
    const seen: unknown[] = [];
    const commands: PackCommandSpec<{ label?: string }>[] = [
      {
        name: "echo-config",
        description: "prints the label",
        run: async (context) => {
          seen.push(context.config.label, context.stateDir.endsWith("/plugins/clawscope-test"), context.json);
        },
      },
    ];
    const { api, registrars } = apiWith({ label: "from-config" });
    registerPackCommands("clawscope-test", definition, commands, api);
    expect(registrars[0]?.parentPath).toEqual(["clawscope"]);

    // the owner first, then the nested registration
    const parent = new FakeCommand("clawscope");
    addContributedCommands(parent);
    registrars[0]?.registrar({ program: parent });
    expect(parent.commands.map((command) => command.name())).toEqual(["echo-config"]);
    // the nested registration first, then the owner
    const other = new FakeCommand("clawscope");
    registrars[0]?.registrar({ program: other });
    addContributedCommands(other);
    expect(other.commands.map((command) => command.name())).toEqual(["echo-config"]);

    await other.commands[0]?.handler?.({ json: true, stateDir: "/tmp/state" });
    expect(seen).toEqual(["from-config", true, true]);
  });

  it("prints one error line and exits 1 when the command throws", async () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const { api, registrars } = apiWith({});
    registerPackCommands(
      "clawscope-failing",
      definition,
      [
        {
          name: "fail",
          description: "fails",
          run: async () => Promise.reject(new Error("--date is not a date")),
        },
      ],
      api,
    );
    const parent = new FakeCommand("clawscope");
    registrars[0]?.registrar({ program: parent });
    await parent.commands[0]?.handler?.({});
    expect(write).toHaveBeenCalledWith("error: clawscope-failing fail: --date is not a date\n");
    expect(process.exitCode).toBe(1);
  });
});
