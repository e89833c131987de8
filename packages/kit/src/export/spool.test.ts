import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSpool, parseSpoolBody, toSpoolFileName, toSpoolLine } from "./spool.js";

const line = (id: string, payload: unknown = { value: id }) => toSpoolLine({ id, enqueuedAt: 1, payload });

describe("spool", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "clawscope-spool-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes atomically, recovers oldest first, reads back and removes", async () => {
    const spool = createSpool({ dir, maxDeadLetterBytes: 1000 });
    await spool.recover();
    await spool.write(10, line("b"), 1);
    await spool.write(9, line("a1") + line("a2"), 2);
    expect(spool.files).toBe(2);
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);

    const again = createSpool({ dir, maxDeadLetterBytes: 1000 });
    const { entries } = await again.recover();
    expect(entries.map((entry) => [entry.seq, entry.itemCount])).toEqual([
      [9, 2],
      [10, 1],
    ]);
    expect(again.bytes).toBe(spool.bytes);
    const read = await again.read<{ value: string }>(entries[0]!);
    expect(read).toEqual({
      items: [
        { id: "a1", enqueuedAt: 1, payload: { value: "a1" } },
        { id: "a2", enqueuedAt: 1, payload: { value: "a2" } },
      ],
      corrupt: 0,
    });
    await again.remove(entries[0]!);
    await again.remove(entries[0]!); // already gone: fine, and not subtracted twice
    expect(again.files).toBe(1);
    expect(again.bytes).toBe(entries[1]!.bytes);
    expect((await readdir(dir)).sort()).toEqual([toSpoolFileName(10, 1), "dead-letter"]);
  });

  it("removes temp files of interrupted writes and reports foreign files", async () => {
    await writeFile(join(dir, `${toSpoolFileName(3, 5)}.tmp`), '{"id":"half');
    await writeFile(join(dir, "notes.txt"), "hello");
    const spool = createSpool({ dir, maxDeadLetterBytes: 1000 });
    const result = await spool.recover();
    expect(result).toMatchObject({ entries: [], removedTemp: 1, unreadable: ["notes.txt"] });
  });

  it("counts garbage lines and lines missing against the count in the file name", () => {
    expect(parseSpoolBody(`${line("a")}garbage\n{"id":5}\n`, 3).corrupt).toBe(2);
    expect(parseSpoolBody(line("a"), 4)).toMatchObject({ corrupt: 3 });
    expect(parseSpoolBody("\u0000\u0001binary", 0).corrupt).toBe(1);
  });

  it("bounds the dead-letter directory", async () => {
    const spool = createSpool({ dir, maxDeadLetterBytes: 300 });
    await spool.recover();
    expect(await spool.deadLetter(1, line("x"), "HTTP 400")).toBe(true);
    expect(await spool.deadLetter(2, line("y".repeat(400)), "HTTP 400")).toBe(false);
    const files = await readdir(spool.deadLetterDir);
    expect(files).toHaveLength(1);
    const body = await readFile(join(spool.deadLetterDir, files[0]!), "utf8");
    expect(body).toContain('"reason":"HTTP 400"');
    expect(body).toContain('"id":"x"');
  });

  it("quarantines an unreadable batch file into dead-letter", async () => {
    const spool = createSpool({ dir, maxDeadLetterBytes: 10_000 });
    await spool.recover();
    const entry = await spool.write(4, "garbage\n", 1);
    await spool.quarantine(entry);
    expect(spool.files).toBe(0);
    expect(spool.bytes).toBe(0);
    expect((await readdir(spool.deadLetterDir))[0]).toMatch(/^corrupt-/);
  });
});
