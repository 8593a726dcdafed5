import type { ReactNode } from "react";
import { Navigate, Route, Routes, useLocation, useSearchParams } from "react-router";
import { ProblemAlert } from "./components/Alert";
import { Layout } from "./components/Layout";
import { useT } from "./i18n";
import { useFocusOnMount } from "./hooks/useFocusOnMount";
import { useSession } from "./hooks/useSession";
import { AccountSettingsPage } from "./pages/AccountSettingsPage";
import { ForgotPasswordPage } from "./pages/ForgotPasswordPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { NotMePage } from "./pages/NotMePage";
import { ResetPasswordPage } from "./pages/ResetPasswordPage";
import { SignInPage } from "./pages/SignInPage";
import { SignUpPage } from "./pages/SignUpPage";
import { SupportPage } from "./pages/SupportPage";
import { VerifyEmailPage } from "./pages/VerifyEmailPage";
import type { Problem } from "./api/types";

export function App() {
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<Navigate to="/account" replace />} />
        <Route path="/sign-in" element={<SignedOutOnly page={<SignInPage />} />} />
        <Route path="/sign-up" element={<SignedOutOnly page={<SignUpPage />} />} />
        <Route path="/forgot-password" element={<SignedOutOnly page={<ForgotPasswordPage />} />} />
        {/* Links from mails: they work whether or not this browser is signed in. */}
        <Route path="/verify-email" element={<VerifyEmailPage />} />
        <Route path="/reset-password" element={<ResetPasswordPage />} />
        <Route path="/not-me" element={<NotMePage />} />
        <Route path="/account" element={<SignedInOnly page={<AccountSettingsPage />} />} />
        <Route path="/support" element={<SignedInOnly role="support" page={<SupportPage />} />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Layout>
  );
}

/**
 * Where to go after sign-in: only a path of this site. The URL parser decides, so tricks such as
 * `//evil.example` or `/\evil.example` (which browsers read as another host) fall back to /account.
 */
export function safeNext(next: string | null): string {
  if (!next?.startsWith("/")) return "/account";
  const base = window.location.origin;
  try {
    const url = new URL(next, base);
    return url.origin === base ? url.pathname + url.search + url.hash : "/account";
  } catch {
    return "/account";
  }
}

function Loading() {
  const t = useT();
  return (
    <p role="status" className="loading">
      {t("common.loading")}
    </p>
  );
}

/** The account could not be loaded for an outage: say so, offer a retry, keep the session. */
function Unavailable({ problem, retry }: { problem: Problem; retry: () => void }) {
  const t = useT();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("unavailable.heading")}
      </h1>
      <ProblemAlert problem={problem} />
      <button type="button" className="primary" onClick={retry}>
        {t("unavailable.retry")}
      </button>
    </section>
  );
}

/** Sends signed-out visitors to sign-in, remembering where they wanted to go. */
function SignedInOnly({ role, page }: { role?: "support"; page: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === "loading") return <Loading />;
  if (state.status === "unavailable") return <Unavailable problem={state.problem} retry={state.retry} />;
  if (state.status === "signed-out") {
    if (state.deliberate) return <Navigate to="/sign-in?signed-out=1" replace />;
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/sign-in?next=${next}`} replace />;
  }
  if (role && state.account.role !== role) return <NotFoundPage />;
  return page;
}

/** Sign-in and sign-up are for signed-out visitors; a sign-in continues where it was asked for. */
function SignedOutOnly({ page }: { page: ReactNode }) {
  const { state } = useSession();
  const [search] = useSearchParams();
  if (state.status === "loading") return <Loading />;
  if (state.status === "signed-in") return <Navigate to={safeNext(search.get("next"))} replace />;
  if (state.status === "unavailable") return <Unavailable problem={state.problem} retry={state.retry} />;
  return page;
}
