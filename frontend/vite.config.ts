import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { precompileMessagesPlugin } from "./precompile-messages";
import { precompressPlugin } from "./precompress";

export default defineConfig({
  plugins: [react(), precompileMessagesPlugin(), precompressPlugin()],
  build: {
    // The server's CSP allows no inline code: keep every asset in its own file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
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
  },
});
