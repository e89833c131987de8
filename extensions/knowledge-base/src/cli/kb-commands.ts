/**
 * `openclaw clawscope kb query <words...>`, `kb show <id>`, `kb solve <id> <text...> [--author A]`
 * and `kb export [--format markdown|json]`. They run in the CLI process against the same store the
 * gateway writes (its SQLite file, or the fleet's MongoDB), so they work while the gateway runs and
 * after it stopped. `solve` writes the solution and its audit record like the API does.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { type PackCommandContext, type PackCommandSpec, redactText } from "@clawscope/kit";
import { type AuditRecord, openStore, type Store, toStoreOptions } from "@clawscope/store";
import type { KnowledgeBaseConfig } from "../config.js";
import {
  answerKnowledgeQuery,
  type KnowledgeSource,
  solutionsOf,
  toKnowledgeExport,
} from "../domain/knowledge-answer.js";
import { parseKnowledgeQuery, toEntrySummary } from "../domain/knowledge-query.js";
import { createKnowledgeView, type RecordedSolution } from "../knowledge-view.js";
import { toMarkdownRunbook } from "../mapping/to-documents.js";
import { toCollections } from "../store/collections.js";

type Context = PackCommandContext<KnowledgeBaseConfig>;

async function withKnowledge<T>(
  context: Context,
  work: (source: KnowledgeSource, store: Store) => Promise<T>,
): Promise<T> {
  const options = toStoreOptions(context.config.store, {
    stateDir: context.stateDir,
    collections: toCollections(context.config.occurrenceRetentionDays ?? 30),
  });
  // reading a store that does not exist would create an empty one and answer nothing useful
  if (options.kind === "sqlite" && !existsSync(options.path))
    throw new Error(
      `no knowledge base at ${options.path}: has the gateway run with clawscope-knowledge-base? (--state-dir names another gateway's state dir)`,
    );
  const store = await openStore({ ...options, log: () => undefined });
  try {
    const view = createKnowledgeView(store, () => Date.now());
    const snapshot = await view.refresh();
    return await work(
      {
        ...snapshot,
        search: (text, limit) => snapshot.index.search(text, limit),
        runbookFor: view.runbookFor,
      },
      store,
    );
  } finally {
    await store.close();
  }
}

async function query(context: Context): Promise<void> {
  const parsed = parseKnowledgeQuery({ query: context.args.join(" "), limit: 5 });
  if ("error" in parsed) throw new Error(parsed.error);
  await withKnowledge(context, async (source) => {
    const answer = answerKnowledgeQuery(source, parsed.query);
    if (context.json) return context.print(JSON.stringify(answer, null, 2));
    if (answer.results.entries.length === 0) return context.print("no known issue matches");
    const lines: string[] = [];
    for (const entry of answer.results.entries) {
      lines.push(`${entry.id}  ${entry.state.padEnd(9)} ${String(entry.count).padStart(6)}x  ${entry.title}`);
      for (const solution of answer.results.solutions.filter((item) => item.entry === entry.id).slice(0, 2))
        lines.push(`    fix (${solution.source}): ${solution.steps[0] ?? solution.title}`);
    }
    context.print(lines.join("\n"));
  });
}

async function show(context: Context): Promise<void> {
  const id = context.args[0] ?? "";
  await withKnowledge(context, async (source) => {
    const entry = source.byId.get(id);
    if (!entry) throw new Error(`no issue entry ${JSON.stringify(id.slice(0, 40))} (kb query lists ids)`);
    const detail = {
      ...toEntrySummary(entry),
      affected: entry.affected,
      examples: entry.examples,
      solutions: solutionsOf(source, entry),
    };
    if (context.json) return context.print(JSON.stringify(detail, null, 2));
    const lines = [
      entry.title,
      `state ${entry.state}, trend ${entry.trend}, ${entry.count} occurrence(s), first ${detail.firstSeen}, last ${detail.lastSeen}`,
      `message: ${entry.message}`,
      `agents: ${entry.affected.agents.map((item) => item.name).join(", ") || "–"}; models: ${entry.affected.models.map((item) => item.name).join(", ") || "–"}`,
      ...entry.examples.map(
        (example) =>
          `trace ${example.traceId ?? example.turnId ?? "?"} ${Object.values(example.links).join(" ")}`,
      ),
      ...detail.solutions.flatMap((solution) => [
        `fix (${solution.source}): ${solution.title}`,
        ...solution.steps.map((step) => `  - ${step}`),
      ]),
    ];
    context.print(lines.join("\n"));
  });
}

async function solve(context: Context): Promise<void> {
  const [id = "", ...words] = context.args;
  const text = words.join(" ").trim();
  if (text === "") throw new Error("kb solve needs the entry id and the solution's text");
  if (text.length > 4_000) throw new Error("the solution is longer than 4000 characters");
  const author = typeof context.options.author === "string" ? context.options.author : "cli";
  await withKnowledge(context, async (source, store) => {
    if (!source.byId.has(id))
      throw new Error(`no issue entry ${JSON.stringify(id.slice(0, 40))} (kb query lists ids)`);
    const now = Date.now();
    const solution: RecordedSolution = {
      id: randomUUID(),
      entry: id,
      ts: now,
      author: redactText(author).slice(0, 200),
      text: redactText(text),
      source: "operator",
    };
    await store.collection<RecordedSolution>("kb_solutions").upsert([solution]);
    const audit: AuditRecord = {
      id: `${context.gateway.id}:${now}:${process.pid}:cli`,
      ts: now,
      gateway: context.gateway.id,
      actor: solution.author,
      action: "kb.solution.add",
      outcome: "ok",
      detail: { entry: id, via: "cli" },
    };
    await store.collection<AuditRecord>("audit_logs").upsert([audit]);
    context.print(context.json ? JSON.stringify({ success: true, solution }, null, 2) : `recorded on ${id}`);
  });
}

async function exportKnowledge(context: Context): Promise<void> {
  const format = typeof context.options.format === "string" ? context.options.format : "markdown";
  if (format !== "markdown" && format !== "json") throw new Error("--format must be markdown or json");
  await withKnowledge(context, async (source) => {
    const now = Date.now();
    context.print(
      format === "json" || context.json
        ? JSON.stringify(toKnowledgeExport(source, now), null, 2)
        : toMarkdownRunbook(source, now),
    );
  });
}

const ACTIONS: Record<string, (context: Context) => Promise<void>> = {
  query,
  show,
  solve,
  export: exportKnowledge,
};

export const KB_COMMANDS: readonly PackCommandSpec<KnowledgeBaseConfig>[] = [
  {
    name: "kb",
    arguments: "<action> [words...]",
    description:
      "the knowledge base: `kb query <words...>` (known issues and fixes), `kb show <id>`, `kb solve <id> <text...>` (record a solution), `kb export` (the runbook)",
    options: [
      { flags: "--author <name>", description: "who records the solution (kb solve; default cli)" },
      { flags: "--format <markdown|json>", description: "the export's format (kb export; default markdown)" },
    ],
    async run(context) {
      const [action = "", ...rest] = context.args;
      const handler = ACTIONS[action];
      if (!handler)
        throw new Error(
          `unknown kb action ${JSON.stringify(action.slice(0, 20))}: use query, show, solve or export`,
        );
      await handler({ ...context, args: rest });
    },
  },
];
