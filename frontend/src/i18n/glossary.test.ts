import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Language } from "../api/types";
import { LANGUAGES, loadCatalogue, type Catalogue } from ".";

const CATALOGUES = Object.fromEntries(
  await Promise.all(LANGUAGES.map(async (language) => [language, await loadCatalogue(language)] as const)),
) as Record<Language, Catalogue>;


/**
 * docs/glossary.json: one word for one thing in each language, shared with the mails (whose
 * test in backend/src/service/notifications.rs reads the same file and matches the same way).
 */
interface Usage {
  term: string;
  match: string;
  forbidden: string[];
}
type Concept = { concept: string } & Partial<Record<string, Usage | string>>;

const glossary = JSON.parse(readFileSync(join(import.meta.dirname, "../../../docs/glossary.json"), "utf8")) as {
  concepts: Concept[];
};

/** Lower-cased words: cut at every character that is not a letter or a digit (nor, in a pattern, `*`). */
function words(text: string, pattern: boolean): string[] {
  return text
    .toLowerCase()
    .split(pattern ? /[^\p{L}\p{N}*]+/u : /[^\p{L}\p{N}]+/u)
    .filter((word) => word !== "");
}

/** Whether the glossary pattern occurs in `text`: its words one after another, each equal or, ending in `*`, a prefix. */
function occurs(pattern: string, text: string): boolean {
  const wanted = words(pattern, true);
  const found = words(text, false);
  if (wanted.length === 0) throw new Error("an empty glossary pattern");
  for (let start = 0; start + wanted.length <= found.length; start++) {
    const matches = wanted.every((want, offset) => {
      const word = found[start + offset] ?? "";
      return want.endsWith("*") ? word.startsWith(want.slice(0, -1)) : word === want;
    });
    if (matches) return true;
  }
  return false;
}

function usage(concept: Concept, language: string): Usage {
  const entry = concept[language];
  if (typeof entry !== "object") throw new Error(`docs/glossary.json: "${concept.concept}" has no "${language}" entry`);
  return entry;
}

describe("glossary (docs/glossary.json)", () => {
  it("patterns match words and stems", () => {
    expect(occurs("záložn* kód*", "Zbývá 9 záložních kódů.")).toBe(true);
    expect(occurs("e mail*", "tento e-mail ignorujte")).toBe(true);
    expect(occurs("e mail*", "every mail")).toBe(false);
    expect(occurs("otp app", "Open the OTP app.")).toBe(true);
    expect(occurs("otp app", "Open the OTP application.")).toBe(false);
    expect(occurs("záchrann*", "nezáchranný")).toBe(false);
  });

  it.each(LANGUAGES)("%s: every concept has a term, a match and forbidden synonyms", (language) => {
    for (const concept of glossary.concepts) {
      const { term, match, forbidden } = usage(concept, language);
      expect(term.trim(), concept.concept).not.toBe("");
      expect(occurs(match, term), `${concept.concept}: "${match}" finds "${term}"`).toBe(true);
      expect(Array.isArray(forbidden), concept.concept).toBe(true);
    }
  });

  it.each(LANGUAGES)("%s: no catalogue string uses a synonym the glossary forbids", (language) => {
    const drift: string[] = [];
    for (const [key, message] of Object.entries(CATALOGUES[language])) {
      for (const concept of glossary.concepts) {
        const { term, forbidden } = usage(concept, language);
        for (const word of forbidden.filter((word) => occurs(word, message))) {
          drift.push(`${key}: "${word}" for ${concept.concept}; say "${term}"\n    ${message}`);
        }
      }
    }
    expect(drift, `${language}.ts uses words docs/glossary.json forbids`).toEqual([]);
  });

  it.each(LANGUAGES)("%s: the catalogue uses every glossary term", (language) => {
    const messages = Object.values(CATALOGUES[language]);
    for (const concept of glossary.concepts) {
      const { term, match } = usage(concept, language);
      expect(
        messages.some((message) => occurs(match, message)),
        `no ${language} message says "${term}" (${concept.concept}): fix the catalogue, or the glossary`,
      ).toBe(true);
    }
  });
});
