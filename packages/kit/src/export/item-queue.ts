/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */

/** FIFO queue used for items waiting to be cut into batches. */
export interface ItemQueue<T> {
  readonly size: number;
  push(value: T): void;
  shift(): T | undefined;
  peek(): T | undefined;
  /** Puts a value back at the front (used when a batch is cut one item too far). */
  unshift(value: T): void;
}

/** Creates an empty {@link ItemQueue}. */
export function createItemQueue<T>(): ItemQueue<T> {
  let values: (T | undefined)[] = [];
  let head = 0;
  return {
    get size() {
      return values.length - head;
    },
    push(value) {
      values.push(value);
    },
    shift() {
      if (head >= values.length) return undefined;
      const value = values[head];
      values[head] = undefined;
      head += 1;
      // compact once the dead prefix dominates, so shift stays amortised O(1) and memory is freed
      if (head >= 1024 && head * 2 >= values.length) {
        values = values.slice(head);
        head = 0;
      }
      return value;
    },
    peek() {
      return head < values.length ? values[head] : undefined;
    },
    unshift(value) {
      if (head > 0) {
        head -= 1;
        values[head] = value;
      } else {
        values.unshift(value);
      }
    },
  };
}
