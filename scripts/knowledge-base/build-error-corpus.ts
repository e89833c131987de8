/**
 * Writes the knowledge base's labelled error corpus (test data, checked in) from the documented
 * formats in `error-corpus-templates.json`: every group gets several occurrences whose volatile values
 * (request and org ids, numbers, durations, UUIDs, IPs, ports, paths, keys) are drawn afresh from a
 * seeded generator, so the file is the same on every run.
 *
 *   pnpm exec tsx scripts/knowledge-base/build-error-corpus.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * One cause: its documented message(s) with placeholders for the volatile values, where the format
 * is documented, and the failure's kind, category, status, provider/model or tool. Groups that differ
 * only in a word carrying the cause (TPM vs RPM, ENOENT vs EACCES) are kept apart on purpose.
 */
interface CorpusGroup {
  group: string;
  source: string;
  kind: string;
  category?: string;
  status?: number;
  provider?: string;
  model?: string;
  tool?: string;
  texts: string[];
}

const CORPUS_GROUPS = JSON.parse(
  readFileSync(new URL("./error-corpus-templates.json", import.meta.url), "utf8"),
) as CorpusGroup[];
const OUTPUT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../extensions/knowledge-base/src/domain/__fixtures__/error-corpus.json",
);
/** Occurrences per group: enough pairs to measure recall on every group. */
const OCCURRENCES = 4;

// mulberry32: a small seeded generator, so the corpus does not change between runs
let seed = 0x5eed_c0de;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let value = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
  return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
}
const integer = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const pick = <T>(items: readonly T[]): T => items[integer(0, items.length - 1)] as T;
const chars = (alphabet: string, length: number) =>
  Array.from({ length }, () => alphabet[integer(0, alphabet.length - 1)]).join("");
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";

const PATH_ROOTS = [
  "/home/ops/projects",
  "/srv/agents/workspace",
  "/var/lib/openclaw/workspaces",
  "/tmp/job",
];
const PATH_PARTS = ["src", "docs", "data", "reports", "notes", "build", "cache", "lib", "app"];
const PATH_FILES = [
  "index.ts",
  "README.md",
  "report.csv",
  "config.yaml",
  "main.py",
  "notes.txt",
  "data.json",
];

function fill(template: string): string {
  return template.replace(
    /\{(\w+)(?::([\d.]+):([\d.]+)|:(\d+))?\}/g,
    (_match, name: string, low, high, size) => {
      switch (name) {
        case "int":
          return String(integer(Number(low), Number(high)));
        case "dec": {
          const value = Number(low) + random() * (Number(high) - Number(low));
          return value.toFixed(integer(1, 3));
        }
        case "comma":
          return integer(Number(low), Number(high)).toLocaleString("en-US");
        case "hex":
          return chars(HEX, Number(size ?? 16));
        case "alnum":
          return chars(ALNUM, Number(size ?? 12));
        case "org":
          return `org-${chars(ALNUM, 24)}`;
        case "reqid":
          return `req_011C${chars(ALNUM, 18)}`;
        case "oaireq":
          return chars(HEX, 32);
        case "callid":
          return `call_${chars(ALNUM, 24)}`;
        case "toolu":
          return `toolu_01${chars(ALNUM, 22)}`;
        case "sk":
          return `sk-proj-${chars(ALNUM, 40)}`;
        case "uuid":
          return [8, 4, 4, 4, 12].map((length) => chars(HEX, length)).join("-");
        case "ip":
          return `${integer(10, 192)}.${integer(0, 255)}.${integer(0, 255)}.${integer(1, 254)}`;
        case "port":
          return String(integer(30000, 65000));
        case "region":
          return pick(["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"]);
        case "path": {
          const depth = integer(1, 3);
          const parts = Array.from({ length: depth }, () => pick(PATH_PARTS));
          return [pick(PATH_ROOTS), `agent-${integer(1, 99)}`, ...parts, pick(PATH_FILES)].join("/");
        }
        default:
          throw new Error(`unknown placeholder {${name}}`);
      }
    },
  );
}

const items = CORPUS_GROUPS.flatMap((group) =>
  Array.from({ length: OCCURRENCES }, (_unused, index) => ({
    group: group.group,
    source: group.source,
    kind: group.kind,
    ...(group.category ? { category: group.category } : {}),
    ...(group.status ? { status: group.status } : {}),
    ...(group.provider ? { provider: group.provider } : {}),
    ...(group.model ? { model: group.model } : {}),
    ...(group.tool ? { tool: group.tool } : {}),
    message: fill(group.texts[index % group.texts.length] as string),
  })),
);
writeFileSync(OUTPUT, `${JSON.stringify({ groups: CORPUS_GROUPS.length, items }, null, 1)}\n`);
console.log(
  `${items.length} messages in ${CORPUS_GROUPS.length} groups -> ${path.relative(process.cwd(), OUTPUT)}`,
);
