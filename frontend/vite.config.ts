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
  },
});
