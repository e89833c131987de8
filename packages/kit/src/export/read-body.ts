/**
 * A backend's answer body, read up to a bound: an error body is small, but a broken proxy's need not
 * be, and an exporter must not buffer whatever it is sent.
 */

/** Reads at most `maxBytes` of the body (cancelling the rest); a body cut off mid-way gives what came. */
export async function readBoundedBody(response: Response, maxBytes: number): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size >= maxBytes) {
        await reader.cancel();
        break;
      }
    }
  } catch {
    // a body cut off mid-way does not change the status the backend gave
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}
