/**
 * The per-deployment key for id hashing, created once and shared by every clawscope extension
 * of one gateway through `<stateDir>/plugins/clawscope/hash-key` (mode 0600). A key from config or
 * `CLAWSCOPE_HASH_KEY` takes precedence; the caller checks that first.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

/** Where the generated key lives, relative to the gateway's state dir. */
export function hashKeyPath(stateDir: string): string {
  return path.join(stateDir, "plugins", "clawscope", "hash-key");
}

const KEY_PATTERN = /^[0-9a-f]{64}$/;
const READ_ATTEMPTS = 5;

/**
 * Returns the deployment's hash key, creating it on first use. Two extensions starting at once
 * agree on one key: each writes a private temp file and hard-links it into place, which fails
 * rather than overwrites when the other was first; the loser reads the winner's key. An
 * unreadable or malformed existing file is an error (regenerating would silently change every
 * hashed id).
 */
export async function loadOrCreateHashKey(stateDir: string): Promise<string> {
  const file = hashKeyPath(stateDir);
  const existing = await readKey(file);
  if (existing !== undefined) return existing;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString("hex");
  const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, `${key}\n`, { mode: 0o600, flag: "wx" });
  try {
    await link(temp, file);
    return key;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return await readExistingKey(file);
    if (errorCode(error) !== "EPERM" && errorCode(error) !== "ENOTSUP" && errorCode(error) !== "EXDEV")
      throw error;
    // file systems without hard links: exclusive create, then re-read in case another won
    try {
      await writeFile(file, `${key}\n`, { mode: 0o600, flag: "wx" });
      return key;
    } catch (fallbackError) {
      if (errorCode(fallbackError) === "EEXIST") return await readExistingKey(file);
      throw fallbackError;
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The key in `file`, or undefined when the file does not exist. */
async function readKey(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw new Error(`cannot read the hash key file ${file}: ${errorCode(error) ?? String(error)}`);
  }
  const key = text.trim();
  if (KEY_PATTERN.test(key)) return key;
  throw new Error(
    `the hash key file ${file} is malformed (expected 64 hex characters); restore it, or delete it to start new hashed ids`,
  );
}

/** Reads a key another process just created; the no-link fallback may briefly show an empty file. */
async function readExistingKey(file: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const key = await readKey(file);
      if (key !== undefined) return key;
    } catch (error) {
      if (attempt >= READ_ATTEMPTS) throw error;
    }
    if (attempt >= READ_ATTEMPTS)
      throw new Error(`the hash key file ${file} disappeared while being created`);
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
