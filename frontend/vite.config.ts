import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";
import { precompileMessagesPlugin } from "./precompile-messages";
import { precompressPlugin } from "./precompress";

export default defineConfig(({ mode }) => ({
  // Preact with its React compatibility layer instead of React (React's runtime alone weighed
  // more than half of the sign-in page's scripts, BENCHMARKS.md): the preset compiles JSX for
  // Preact and aliases `react`, `react-dom` (so also `react-dom/client` and `react-dom/test-utils`)
  // and `react/jsx-runtime` to Preact, in the build and in Vitest alike.
  plugins: [preact(), precompileMessagesPlugin(), precompressPlugin()],
  // Vitest resolves packages as Node does (CommonJS entries first), and Node's `require` does not
  // see the aliases: under Vitest, take the ES module entries, as the build does, so that the
  // libraries below render with Preact there too.
  resolve: mode === "test" ? { conditions: ["module"], mainFields: ["module"] } : {},
  build: {
    // The server's CSP allows no inline code: keep every asset in its own file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      // @simplewebauthn/browser's index only re-exports (its package.json does not say so): read
      // as free of side effects, its ceremony code can leave the sign-in page's script for the
      // chunk fetched when a ceremony starts (src/api/webauthnDialogs.ts).
      treeshake: { moduleSideEffects: (id: string) => !/[\\/]@simplewebauthn[\\/]browser[\\/]/.test(id) },
    },
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/.well-known": "http://127.0.0.1:8080",
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    restoreMocks: true,
    server: {
      deps: {
        // Node would load these unchanged, past the aliases: every library that imports React
        // goes through Vite instead. (npm installs React as their peer dependency; nothing
        // imports it.)
        inline: [/[\\/]node_modules[\\/](react-router|react-intl|@tanstack[\\/]react-query|openapi-react-query|@testing-library[\\/]react)[\\/]/],
      },
    },
  },
}));
