import { defineConfig } from "vitest/config";

// One root config with projects: unit/contract tests beside the code, e2e on the real gateway.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "extensions/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          testTimeout: 120_000,
          // real backends (MLflow server...) start in beforeAll; first installs can take minutes
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          // one gateway per test file; two cores: run files one after another
          fileParallelism: false,
        },
      },
    ],
  },
});
