import { IntlMessageFormat } from "intl-messageformat";
import { describe, expect, it } from "vitest";
import type { Language } from "../api/types";
import { LANGUAGES, loadCatalogue, type Catalogue } from ".";

const CATALOGUES = Object.fromEntries(
  await Promise.all(LANGUAGES.map(async (language) => [language, await loadCatalogue(language)] as const)),
) as Record<Language, Catalogue>;


describe("message catalogues", () => {
  const reference = Object.keys(CATALOGUES.en).sort();

  it.each(LANGUAGES)("%s has exactly the keys of every other catalogue", (language) => {
    for (const other of LANGUAGES) {
      expect(Object.keys(CATALOGUES[language]).sort(), `${language} vs ${other}`).toEqual(
        Object.keys(CATALOGUES[other]).sort(),
      );
    }
    expect(Object.keys(CATALOGUES[language]).sort()).toEqual(reference);
  });

  it.each(LANGUAGES)("%s: every message parses as ICU MessageFormat and is not empty", (language) => {
    for (const [key, message] of Object.entries(CATALOGUES[language])) {
      expect(message.trim(), key).not.toBe("");
      expect(() => new IntlMessageFormat(message, language), key).not.toThrow();
    }
  });

  it("Czech plurals cover one, few and other", () => {
    const format = (count: number) => new IntlMessageFormat(CATALOGUES.cs["twofa.codes_left"], "cs").format({ count });
    expect(format(1)).toBe("Máte 1 nepoužitý záložní kód.");
    expect(format(3)).toBe("Máte 3 nepoužité záložní kódy.");
    expect(format(10)).toBe("Máte 10 nepoužitých záložních kódů.");
  });

  it("Czech plurals of how often a failure repeated", () => {
    const format = (count: number) =>
      new IntlMessageFormat(CATALOGUES.cs["events.repeated"], "cs").format({ count, last: "10:47" });
    expect(format(1)).toBe("jednou, naposledy v 10:47");
    expect(format(3)).toBe("3krát, naposledy v 10:47");
    expect(format(12)).toBe("12krát, naposledy v 10:47");
  });

  it("Czech plurals of the places one is signed in at", () => {
    const format = (count: number) => new IntlMessageFormat(CATALOGUES.cs["sessions.summary"], "cs").format({ count });
    expect(format(1)).toBe("Jste přihlášeni na 1 místě.");
    expect(format(2)).toBe("Jste přihlášeni na 2 místech.");
    expect(format(5)).toBe("Jste přihlášeni na 5 místech.");
  });
});
