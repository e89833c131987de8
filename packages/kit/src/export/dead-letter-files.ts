/**
 * Dead letters moved back into the spool while the gateway is down (`openclaw clawscope
 * redeliver`): each rejected batch becomes a batch file again, numbered after the spool's newest
 * one, so the next start sends it last. A running gateway does the same in-process through the
 * `<plugin id>.redeliver` gateway method.
 */
import { readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseSpoolBody, toSpoolFileName, toSpoolLine } from "./spool.js";

/** What {@link moveDeadLettersToSpool} did in one pipeline's spool folder. */
export interface MovedDeadLetters {
  spoolDir: string;
  files: number;
  items: number;
}

const BATCH_FILE = /^batch-(\d{1,16})-\d{1,9}\.jsonl$/;
const DEAD_LETTER_FILE = /^rejected-\d{1,16}-\d{1,16}(?:-\d{1,9})?\.jsonl$/;

/**
 * Moves every rejected batch of every pipeline under `<pluginStateDir>/spool/` back into its
 * spool. Files that cannot be read are left where they are.
 */
export async function moveDeadLettersToSpool(pluginStateDir: string): Promise<MovedDeadLetters[]> {
  const root = path.join(pluginStateDir, "spool");
  const moved: MovedDeadLetters[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const spoolDir = path.join(root, name);
    const deadLetterDir = path.join(spoolDir, "dead-letter");
    const letters = (await readdir(deadLetterDir).catch(() => [] as string[]))
      .filter((file) => DEAD_LETTER_FILE.test(file))
      .sort();
    if (letters.length === 0) continue;
    let seq = 0;
    for (const file of await readdir(spoolDir).catch(() => [] as string[])) {
      const match = BATCH_FILE.exec(file);
      if (match) seq = Math.max(seq, Number(match[1]));
    }
    const result: MovedDeadLetters = { spoolDir, files: 0, items: 0 };
    for (const letter of letters) {
      const source = path.join(deadLetterDir, letter);
      const body = await readFile(source, "utf8").catch(() => undefined);
      if (body === undefined) continue;
      const read = parseSpoolBody(body.split("\n").slice(1).join("\n"), 0);
      if (read.items.length > 0) {
        seq += 1;
        const target = path.join(spoolDir, toSpoolFileName(seq, read.items.length));
        await writeFile(`${target}.tmp`, read.items.map((item) => toSpoolLine(item)).join(""), "utf8");
        await rename(`${target}.tmp`, target);
      }
      await unlink(source).catch(() => undefined);
      result.files += 1;
      result.items += read.items.length;
    }
    moved.push(result);
  }
  return moved;
}
