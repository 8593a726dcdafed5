import { useEffect, useId, type ReactNode } from "react";
import { Link } from "react-router";
import { useUpdateAccount } from "../api/account";
import type { Language } from "../api/types";
import { LANGUAGES, useLocale, useT } from "../i18n";
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
      <select id={id} value={language} onChange={(e) => choose(e.target.value as Language)}>
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

export function Layout({ children }: { children: ReactNode }) {
  const t = useT();
  const { state, signOut } = useSession();
  useLanguageFromAccount();
  const signedIn = state.status === "signed-in" ? state.account : null;

  return (
    <>
      <a className="skip-link" href="#main">
        {t("header.skip")}
      </a>
      <header className="site-header">
        <p className="brand">custadmin</p>
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
