import { createServer } from "node:net";

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 and releases it at once.
 * Another process could grab it in between; on this single-user test machine that race is rare.
 */
export async function findFreePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}
