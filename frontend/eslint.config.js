// @ts-check
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "node_modules", "src/api/schema.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
    },
  },
  {
    // Server state goes through src/api/: a read's query options (queries.ts) and one mutation
    // hook per write. Elsewhere no request is written by hand and no query key is a literal.
    files: ["src/**/*.{ts,tsx}"],
    ignores: ["src/api/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[property.name=/^(GET|PUT|POST|PATCH|DELETE)$/]",
          message: "Call the API through a hook of src/api/ (one per operation).",
        },
        {
          selector: "MemberExpression[object.name='$api'][property.name=/^use/]",
          message: "Read through the query options of src/api/queries.ts: useQuery(sessionsQuery($api)).",
        },
        {
          selector: "Property[key.name='queryKey'] > ArrayExpression",
          message: "Take query keys from the query options of src/api/queries.ts.",
        },
      ],
    },
  },
  { files: ["scripts/**/*.mjs"], languageOptions: { globals: { ...globals.node } } },
);
