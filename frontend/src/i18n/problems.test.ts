import { createIntl } from "react-intl";
import { describe, expect, it } from "vitest";
import type { Language, Problem } from "../api/types";
import { LANGUAGES, loadCatalogue, type Catalogue } from ".";
import { eventLabel, problemMessage } from "./problems";

const CATALOGUES = Object.fromEntries(
  await Promise.all(LANGUAGES.map(async (language) => [language, await loadCatalogue(language)] as const)),
) as Record<Language, Catalogue>;


const intlFor = (locale: "en" | "cs") =>
  createIntl({ locale, messages: CATALOGUES[locale], timeZone: "Europe/Prague" });
const problem = (code: Problem["code"], extra: Partial<Problem> = {}): Problem => ({
  type: "t",
  title: code,
  status: 400,
  detail: code,
  code,
  ...extra,
});

describe("problem messages", () => {
  // 09:00 UTC is 10:00 in Prague: the time is shown in the customer's zone.
  const arrived = Date.parse("2026-12-02T09:00:00Z");

  it("says when a throttled customer may try again, from the deadline fixed on arrival", () => {
    const en = intlFor("en");
    const throttled = (seconds: number) =>
      problem("too_many_attempts", { retry_after: seconds, retryAt: arrived + seconds * 1000 });
    expect(problemMessage(en, throttled(30))).toMatch(/^Too many attempts\. Please wait 30 seconds and try again after 10:00/);
    expect(problemMessage(en, throttled(900))).toMatch(/Please wait 15 minutes and try again after 10:15/);
    expect(problemMessage(en, throttled(1))).toMatch(/Please wait 1 second /);
  });

  it("uses the three Czech plural forms", () => {
    const cs = intlFor("cs");
    const throttled = (seconds: number) =>
      problem("too_many_attempts", { retry_after: seconds, retryAt: arrived + seconds * 1000 });
    expect(problemMessage(cs, throttled(60))).toBe("Příliš mnoho pokusů. Počkejte prosím 1 minutu a zkuste to znovu po 10:01.");
    expect(problemMessage(cs, throttled(180))).toMatch(/3 minuty/);
    expect(problemMessage(cs, throttled(300))).toMatch(/5 minut /);
  });

  it("has words for the spent challenge, and a fallback for a code from a newer server", () => {
    expect(problemMessage(intlFor("en"), problem("challenge_exhausted"))).toBe(
      "Too many wrong codes. Sign in again with your password.",
    );
    expect(problemMessage(intlFor("en"), problem("something_new" as Problem["code"]))).toBe(
      "Something went wrong. Please try again later.",
    );
  });

  it("names every event kind, and shows an unknown one as its code", () => {
    expect(eventLabel(intlFor("cs"), "two_factor_enabled")).toBe("Dvoufázové ověření nastaveno");
    expect(eventLabel(intlFor("en"), "passkey_added")).toBe("Passkey added");
    expect(eventLabel(intlFor("cs"), "passkey_used")).toBe("Použit přístupový klíč");
    expect(eventLabel(intlFor("en"), "key_teleported")).toBe("key_teleported");
  });
});
