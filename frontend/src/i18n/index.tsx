import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { IntlProvider, useIntl } from "react-intl";
import type { Language } from "../api/types";
import { cs } from "./cs";
import { en, type MessageId } from "./en";

export type { MessageId } from "./en";

/** The catalogues the SPA ships; the server accepts exactly these tags in `PATCH /account`. */
export const CATALOGUES: Record<Language, Record<MessageId, string>> = { en, cs };
export const LANGUAGES = Object.keys(CATALOGUES) as Language[];

declare global {
  // react-intl checks every message id against the English catalogue at compile time.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace FormatjsIntl {
    interface Message {
      ids: MessageId;
    }
  }
}

function isLanguage(tag: string): tag is Language {
  return (LANGUAGES as string[]).includes(tag);
}

/** The first of the browser's preferred languages we ship, else English. */
export function browserLanguage(preferred: readonly string[] = navigator.languages ?? [navigator.language]): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0] ?? "";
    if (isLanguage(base)) return base;
  }
  return "en";
}

/** The browser's own tag for `language` (e.g. en-GB), so dates and times follow its region. */
function formattingLocale(language: Language): string {
  const preferred = navigator.languages ?? [navigator.language];
  return preferred.find((tag) => tag.toLowerCase().split("-")[0] === language) ?? language;
}

type LocaleContextValue = { language: Language; setLanguage: (language: Language) => void };
const LocaleContext = createContext<LocaleContextValue | null>(null);

export function LocaleProvider({ initial, children }: { initial?: Language; children: ReactNode }) {
  const [language, setLanguage] = useState<Language>(() => initial ?? browserLanguage());
  const locale = useMemo(() => formattingLocale(language), [language]);

  // Screen readers and the browser's hyphenation read the page in the language shown.
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const value = useMemo(() => ({ language, setLanguage }), [language]);
  return (
    <LocaleContext.Provider value={value}>
      <IntlProvider locale={locale} defaultLocale="en" messages={CATALOGUES[language]}>
        {children}
      </IntlProvider>
    </LocaleContext.Provider>
  );
}

export function useLocale(): LocaleContextValue {
  const value = useContext(LocaleContext);
  if (!value) throw new Error("useLocale must be used inside <LocaleProvider>");
  return value;
}

type Values = Record<string, string | number | boolean | Date | null | undefined>;

/** `t(id, values)`: a message of the current catalogue as plain text. */
export function useT() {
  const intl = useIntl();
  return useCallback((id: MessageId, values?: Values) => intl.formatMessage({ id }, values), [intl]);
}
