// Lint: typescript-eslint's recommended rules, the rule that keeps the core pure
// (src/core may not import Node built-ins, Kafka, SQLite, HTTP or a logger), and
// the Kafka port's rule: only src/adapters/kafka knows the client library.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "infra/**", ".blackwell/**", "bench/results/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/**/*.ts", "processors/**/*.ts", "bench/**/*.ts"],
    ignores: ["src/adapters/kafka/**", "src/core/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["kafkajs", "kafkajs/*"],
              message:
                "Only src/adapters/kafka may import the Kafka client: use the port (src/adapters/kafka/port.ts).",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["node:*", "fs", "path", "crypto", "os", "http", "https", "net", "child_process"],
              message: "src/core is pure: no Node built-ins (time and ids are inputs).",
            },
            {
              group: [
                "kafkajs",
                "better-sqlite3",
                "pino",
                "prom-client",
                "avsc",
                "@kafkajs/*",
                "@aws-sdk/*",
                "undici",
                "yaml",
              ],
              message: "src/core is pure: adapters live in src/adapters.",
            },
            {
              group: ["**/adapters/**", "**/runtime/**", "**/api/**", "**/cli/**", "**/infra/**"],
              message: "src/core may not depend on the edges.",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "fetch", message: "src/core is pure: no I/O." },
        { name: "setTimeout", message: "src/core is pure: time is an input." },
        { name: "setInterval", message: "src/core is pure: time is an input." },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "src/core is pure: the stream time is an input." },
        { object: "Math", property: "random", message: "src/core is deterministic." },
      ],
    },
  },
);
