import { describe, expect, it } from "vitest";
import { createItemQueue } from "./item-queue.js";

describe("createItemQueue", () => {
  it("is first in, first out across compactions", () => {
    const queue = createItemQueue<number>();
    for (let index = 0; index < 5000; index++) queue.push(index);
    const out: number[] = [];
    for (let index = 0; index < 3000; index++) out.push(queue.shift() as number);
    for (let index = 5000; index < 6000; index++) queue.push(index);
    expect(queue.size).toBe(3000);
    while (queue.size > 0) out.push(queue.shift() as number);
    expect(out).toEqual(Array.from({ length: 6000 }, (_, index) => index));
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
  });

  it("puts a value back at the front", () => {
    const queue = createItemQueue<string>();
    queue.unshift("b");
    queue.push("c");
    const first = queue.shift() as string;
    queue.unshift(first);
    queue.unshift("a");
    expect([queue.shift(), queue.shift(), queue.shift(), queue.size]).toEqual(["a", "b", "c", 0]);
  });
});
