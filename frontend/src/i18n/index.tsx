import { createContext, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useState, type ReactNode } from "react";
import { IntlProvider, useIntl } from "react-intl";
import type { Language } from "../api/types";
import type { MessageId } from "./en";

export type { MessageId } from "./en";

export type Catalogue = Record<MessageId, string>;

/**
 * The catalogues the SPA ships, each its own chunk fetched when first chosen: a visitor
 * downloads one language, not all. The server accepts exactly these tags in `PATCH /account`.
 */
const CATALOGUE_LOADERS: Record<Language, () => Promise<Catalogue>> = {
  en: () => import("./en").then((module) => module.en),
  cs: () => import("./cs").then((module) => module.cs),
};
export const LANGUAGES = Object.keys(CATALOGUE_LOADERS) as Language[];

/** Catalogues already here, so a language chosen again (or preloaded) renders at once. */
const loaded = new Map<Language, Catalogue>();
const loading = new Map<Language, Promise<Catalogue>>();

/** The catalogue of `language`, fetched once; a failed fetch is forgotten so a retry can succeed. */
export function loadCatalogue(language: Language): Promise<Catalogue> {
  const cached = loaded.get(language);
  if (cached) return Promise.resolve(cached);
  let pending = loading.get(language);
  if (!pending) {
    pending = CATALOGUE_LOADERS[language]().then(
      (catalogue) => {
        loaded.set(language, catalogue);
        loading.delete(language);
        return catalogue;
      },
      (error: unknown) => {
        loading.delete(language);
        throw error;
      },
    );
    loading.set(language, pending);
  }
  return pending;
}

/**
 * The few words needed before any catalogue is here, in each language: the page waits for the
 * chosen language rather than flashing English first, and says so in that language.
 */
const BEFORE_CATALOGUE: Record<Language, { loading: string; failed: string; retry: string }> = {
  en: { loading: "Loading…", failed: "The page could not be loaded.", retry: "Try again" },
  cs: { loading: "Načítání…", failed: "Stránku se nepodařilo načíst.", retry: "Zkusit znovu" },
};

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

type Shown = { language: Language; messages: Catalogue };

/**
 * The chosen language's catalogue to everything inside. Until the first catalogue is here the
 * app is not rendered at all (a status says it is loading); a switch keeps the old language on
 * screen until the new one has arrived, then changes every text at once.
 */
export function LocaleProvider({ initial, children }: { initial?: Language; children: ReactNode }) {
  const [wanted, setWanted] = useState<Language>(() => initial ?? browserLanguage());
  const [shown, setShown] = useState<Shown | null>(() => {
    const messages = loaded.get(wanted);
    return messages ? { language: wanted, messages } : null;
  });
  const [failed, setFailed] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (shown?.language === wanted) return;
    let current = true;
    setFailed(false);
    loadCatalogue(wanted).then(
      (messages) => {
        if (current) setShown({ language: wanted, messages });
      },
      () => {
        if (current) setFailed(true);
      },
    );
    return () => {
      current = false;
    };
  }, [wanted, shown, attempt]);

  const language = shown?.language ?? wanted;
  const locale = useMemo(() => formattingLocale(language), [language]);

  // Screen readers and the browser's hyphenation read the page in the language shown: set before
  // the browser paints the new words (Preact runs a plain effect only after the paint).
  useLayoutEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const value = useMemo(() => ({ language, setLanguage: setWanted }), [language]);
  if (!shown) {
    return <CatalogueLoading language={wanted} failed={failed} retry={() => setAttempt((n) => n + 1)} />;
  }
  return (
    <LocaleContext.Provider value={value}>
      <IntlProvider locale={locale} defaultLocale="en" messages={shown.messages}>
        {children}
      </IntlProvider>
    </LocaleContext.Provider>
  );
}

/** Before any catalogue: a status in the chosen language; should the fetch fail, a way to retry. */
function CatalogueLoading({ language, failed, retry }: { language: Language; failed: boolean; retry: () => void }) {
  const words = BEFORE_CATALOGUE[language];
  if (!failed) {
    return (
      <main id="main" lang={language}>
        <p role="status" className="loading">
          {words.loading}
        </p>
      </main>
    );
  }
  return (
    <main id="main" lang={language}>
      <div role="alert">
        <p>{words.failed}</p>
        <button type="button" onClick={retry}>
          {words.retry}
        </button>
      </div>
    </main>
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
