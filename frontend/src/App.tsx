import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation, useSearchParams } from "react-router";
import { ProblemAlert } from "./components/Alert";
import { Layout } from "./components/Layout";
import { TwoFactorDeadlineBanner } from "./components/TwoFactorDeadlineBanner";
import { useT } from "./i18n";
import { useDocumentTitle } from "./hooks/useDocumentTitle";
import { useFocusOnMount } from "./hooks/useFocusOnMount";
import { useSession } from "./hooks/useSession";
import { NotFoundPage } from "./pages/NotFoundPage";
import { SignInPage } from "./pages/SignInPage";
import { sameSitePath } from "./navigation";
import type { Problem } from "./api/types";

// Sign-in is in the first script; every other page is its own chunk, fetched when first visited,
// so the front door does not carry account, support and passkey code.
const AccountSettingsPage = lazy(() => import("./pages/AccountSettingsPage").then((m) => ({ default: m.AccountSettingsPage })));
const AuthorizePage = lazy(() => import("./pages/AuthorizePage").then((m) => ({ default: m.AuthorizePage })));
const ForgotPasswordPage = lazy(() => import("./pages/ForgotPasswordPage").then((m) => ({ default: m.ForgotPasswordPage })));
const NotMePage = lazy(() => import("./pages/NotMePage").then((m) => ({ default: m.NotMePage })));
const ResetPasswordPage = lazy(() => import("./pages/ResetPasswordPage").then((m) => ({ default: m.ResetPasswordPage })));
const SignOutPage = lazy(() => import("./pages/SignOutPage").then((m) => ({ default: m.SignOutPage })));
const SignUpPage = lazy(() => import("./pages/SignUpPage").then((m) => ({ default: m.SignUpPage })));
const SupportPage = lazy(() => import("./pages/SupportPage").then((m) => ({ default: m.SupportPage })));
const TwoFactorSetupPage = lazy(() => import("./pages/TwoFactorSetupPage").then((m) => ({ default: m.TwoFactorSetupPage })));
const VerifyEmailPage = lazy(() => import("./pages/VerifyEmailPage").then((m) => ({ default: m.VerifyEmailPage })));

export function App() {
  return (
    <Layout>
      {/* The header stays while a page's chunk arrives; the page focuses its heading once shown. */}
      <Suspense fallback={<Loading />}>
        <PageRoutes />
      </Suspense>
    </Layout>
  );
}

function PageRoutes() {
  return (
    <Routes>
      <Route path="/" element={<Home />} />
      <Route path="/sign-in" element={<SignedOutOnly page={<SignInPage />} />} />
      <Route path="/sign-up" element={<SignedOutOnly page={<SignUpPage />} />} />
      <Route path="/forgot-password" element={<SignedOutOnly page={<ForgotPasswordPage />} />} />
      {/* Links from mails: they work whether or not this browser is signed in. */}
      <Route path="/verify-email" element={<VerifyEmailPage />} />
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route path="/not-me" element={<NotMePage />} />
      {/* An app's sign-in request (OpenID Connect): signed in or not, the page decides what comes next. */}
      <Route path="/authorize" element={<AuthorizePage />} />
      {/* An app's sign-out request that names no sign-in: the customer decides. */}
      <Route path="/sign-out" element={<SignOutPage />} />
      <Route path="/account" element={<SignedInOnly page={<AccountSettingsPage />} />} />
      <Route path="/support" element={<SignedInOnly role="support" page={<SupportPage />} />} />
      <Route path="/two-factor-setup" element={<SignedInOnly setUp page={<TwoFactorSetupPage />} />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}

/** Where to go after sign-in: only a path of this site, else Account Settings. */
export function safeNext(next: string | null): string {
  return sameSitePath(next) ?? "/account";
}

/**
 * The site's front door: Account Settings when signed in, else sign-in. Nothing signed-in was
 * asked for, so sign-in says "log in to continue" only if a session just ended.
 */
function Home() {
  const { state } = useSession();
  if (state.status === "loading") return <Loading />;
  if (state.status === "signed-out") return <Navigate to="/sign-in" replace />;
  return <Navigate to="/account" replace />;
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
  useDocumentTitle(t("unavailable.heading"));
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

/**
 * Sends signed-out visitors to sign-in, remembering where they wanted to go; a set-up session
 * (a required second factor past its deadline) to the set-up page, the one page it may use.
 */
function SignedInOnly({ role, setUp, page }: { role?: "support"; setUp?: boolean; page: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === "loading") return <Loading />;
  if (state.status === "unavailable") return <Unavailable problem={state.problem} retry={state.retry} />;
  if (state.status === "signed-out") {
    if (state.deliberate) return <Navigate to="/sign-in?signed-out=1" replace />;
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/sign-in?next=${next}`} replace />;
  }
  if (setUp) return page;
  if (state.account.two_factor.setup_required) return <Navigate to="/two-factor-setup" replace />;
  if (role && state.account.role !== role) return <NotFoundPage />;
  return (
    <>
      <TwoFactorDeadlineBanner />
      {page}
    </>
  );
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
