import { Navigate, useNavigate } from "react-router";
import { useT } from "../i18n";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useSiteName } from "../hooks/usePublicSettings";
import { useSession } from "../hooks/useSession";

/**
 * An app's sign-out request that does not say which sign-in it means (RP-Initiated Logout
 * without `id_token_hint`): the customer is asked, since anyone's page could send them here.
 * Nothing goes back to the app, whose address could not be checked.
 */
export function SignOutPage() {
  const t = useT();
  const { state } = useSession();
  const siteName = useSiteName();
  const site = siteName ?? (window.location.hostname || "custadmin");
  useDocumentTitle(t("signout.heading", { site }));
  if (state.status === "loading") {
    return (
      <p role="status" className="loading">
        {t("common.loading")}
      </p>
    );
  }
  // Nobody is signed in here (or just signed out): nothing to ask.
  if (state.status === "signed-out") return <Navigate to="/sign-in?signed-out=1" replace />;
  return <SignOutQuestion site={site} username={state.status === "signed-in" ? state.account.username : null} />;
}

/** The question, mounted with its heading so that the heading takes the focus also when the
 * session was still loading as the page opened. */
function SignOutQuestion({ site, username }: { site: string; username: string | null }) {
  const t = useT();
  const { signOut } = useSession();
  const navigate = useNavigate();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("signout.heading", { site })}
      </h1>
      <p>{t("signout.explain")}</p>
      {username !== null && <p>{t("authorize.signed_in_as", { username })}</p>}
      <div className="actions">
        <button type="button" className="primary" onClick={() => void signOut()}>
          {t("signout.confirm")}
        </button>
        <button type="button" onClick={() => void navigate("/", { replace: true })}>
          {t("signout.stay")}
        </button>
      </div>
    </section>
  );
}
