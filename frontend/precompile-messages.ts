// Compiles the message catalogues (src/i18n/en.ts, cs.ts) to ICU MessageFormat syntax trees at
// build time, and builds react-intl without its message parser (some 27 KB, a fifth of the
// sign-in page's own code): the browser formats trees, never parses. Tests and `vite dev` keep
// the parser and the plain strings (the plugin applies to `vite build` only).
import { parse } from "@formatjs/icu-messageformat-parser";
import type { Plugin } from "vite";

const CATALOGUE = /[\\/]src[\\/]i18n[\\/](en|cs)\.ts$/;

/** The catalogue module's messages: after TypeScript is stripped it imports nothing (types only). */
async function messagesOf(code: string): Promise<Record<string, Record<string, string>>> {
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as Record<
    string,
    Record<string, string>
  >;
}

export function precompileMessagesPlugin(): Plugin {
  return {
    name: "custadmin-precompile-messages",
    apply: "build",
    enforce: "post",
    config() {
      // The parser's own module, swapped for the one that has the types and no parser.
      return {
        resolve: {
          alias: [{ find: /^@formatjs\/icu-messageformat-parser$/, replacement: "@formatjs/icu-messageformat-parser/no-parser.js" }],
        },
      };
    },
    async transform(code, id) {
      if (!CATALOGUE.test(id)) return null;
      const exports = await messagesOf(code);
      const compiled = Object.entries(exports).map(([name, messages]) => {
        // A message that does not parse fails the build, as it would fail at runtime.
        const trees = Object.fromEntries(Object.entries(messages).map(([key, message]) => [key, parse(message)]));
        // JSON.parse of a string literal is quicker to load than the same object literal.
        return `export const ${name} = JSON.parse(${JSON.stringify(JSON.stringify(trees))});`;
      });
      return { code: compiled.join("\n"), map: null };
    },
  };
}
