import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, beforeAll } from "vitest";
import { LANGUAGES, loadCatalogue } from "../i18n";

// Every catalogue fetched once up front, so a test renders its language at once, as a browser
// does after the first load (src/i18n/language.test.tsx covers the wait before the first one).
beforeAll(async () => {
  await Promise.all(LANGUAGES.map(loadCatalogue));
});

afterEach(() => {
  cleanup();
});
