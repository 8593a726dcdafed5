import { useEffect, useId, type ReactNode } from "react";
import { Link } from "react-router";
import { useUpdateAccount } from "../api/account";
import type { Language } from "../api/types";
import { LANGUAGES, useLocale, useT } from "../i18n";
import { usePublicSettings } from "../hooks/usePublicSettings";
import { useSession } from "../hooks/useSession";

/** The header's language menu; a signed-in choice is remembered on the account (for e-mails too). */
function LanguageSwitcher() {
  const t = useT();
  const id = useId();
  const { language, setLanguage } = useLocale();
  const { state } = useSession();
  const updateAccount = useUpdateAccount();
  const signedIn = state.status === "signed-in";

  function choose(next: Language) {
    setLanguage(next);
    // The account the server answers goes into the cache; a failure leaves the choice in this tab.
    if (signedIn) updateAccount.mutate({ language: next });
  }

  return (
    <div className="language">
      <label htmlFor={id}>{t("header.language")}</label>
      <select id={id} value={language} onChange={(e) => choose(e.currentTarget.value as Language)}>
        {LANGUAGES.map((tag) => (
          <option key={tag} value={tag} lang={tag}>
            {t(`language.${tag}`)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A language remembered on the account wins over the browser's, once the account is known. */
function useLanguageFromAccount() {
  const { state } = useSession();
  const { setLanguage } = useLocale();
  const remembered = state.status === "signed-in" ? state.account.language : null;
  useEffect(() => {
    if (remembered) setLanguage(remembered);
  }, [remembered, setLanguage]);
}

/** The hosting company's logo (its name as the text) or, without one, its name. */
function Brand() {
  const settings = usePublicSettings();
  return (
    <p className="brand">
      {settings?.logo_url ? (
        <img className="brand-logo" src={settings.logo_url} alt={settings.site_name} />
      ) : (
        settings?.site_name
      )}
    </p>
  );
}

/**
 * The operator's colour for the header and primary buttons, as CSS custom properties (styles.css
 * falls back to its own colours). The server took it only with 4.5:1 contrast for white text.
 */
function useBrandColor() {
  const color = usePublicSettings()?.brand_color;
  useEffect(() => {
    if (!color) return;
    const style = document.documentElement.style;
    style.setProperty("--brand", color);
    // A darker shade for hover keeps at least the colour's own contrast with white text.
    style.setProperty("--brand-hover", `color-mix(in srgb, ${color} 85%, black)`);
    return () => {
      style.removeProperty("--brand");
      style.removeProperty("--brand-hover");
    };
  }, [color]);
}

export function Layout({ children }: { children: ReactNode }) {
  const t = useT();
  const { state, signOut } = useSession();
  useLanguageFromAccount();
  useBrandColor();
  const signedIn = state.status === "signed-in" ? state.account : null;

  return (
    <>
      <a className="skip-link" href="#main">
        {t("header.skip")}
      </a>
      <header className="site-header">
        <Brand />
        {signedIn && (
          <nav aria-label={t("header.nav")}>
            <ul>
              <li>
                <Link to="/account">{t("account.heading")}</Link>
              </li>
              {signedIn.role === "support" && (
                <li>
                  <Link to="/support">{t("support.heading")}</Link>
                </li>
              )}
              <li>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => void signOut()}
                >
                  {t("header.sign_out")}
                </button>
              </li>
            </ul>
          </nav>
        )}
        <LanguageSwitcher />
      </header>
      <main id="main">{children}</main>
    </>
  );
}
