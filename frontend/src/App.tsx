import { useEffect, type ReactNode } from "react";
import { Layout } from "./components/Layout";
import { useRouter } from "./hooks/useRouter";
import { useSession } from "./hooks/useSession";
import { AccountSettingsPage } from "./pages/AccountSettingsPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { SignInPage } from "./pages/SignInPage";
import { SignUpPage } from "./pages/SignUpPage";
import { SupportPage } from "./pages/SupportPage";

export function App() {
  return (
    <Layout>
      <Routes />
    </Layout>
  );
}

function Routes() {
  const { path } = useRouter();
  switch (path) {
    case "/":
      return <Redirect to="/account" />;
    case "/sign-in":
      return (
        <SignedOutOnly>
          <SignInPage />
        </SignedOutOnly>
      );
    case "/sign-up":
      return (
        <SignedOutOnly>
          <SignUpPage />
        </SignedOutOnly>
      );
    case "/account":
      return (
        <SignedInOnly>
          <AccountSettingsPage />
        </SignedInOnly>
      );
    case "/support":
      return (
        <SignedInOnly role="support">
          <SupportPage />
        </SignedInOnly>
      );
    default:
      return <NotFoundPage />;
  }
}

function Loading() {
  return (
    <p role="status" className="loading">
      Loading…
    </p>
  );
}

function Redirect({ to }: { to: string }) {
  const { navigate } = useRouter();
  useEffect(() => navigate(to, { replace: true }), [navigate, to]);
  return null;
}

/** Sends signed-out visitors to sign-in, remembering where they wanted to go. */
function SignedInOnly({ role, children }: { role?: "support"; children: ReactNode }) {
  const { state } = useSession();
  const { path, search } = useRouter();
  if (state.status === "loading") return <Loading />;
  if (state.status === "signed-out") {
    const query = search.toString();
    const next = encodeURIComponent(path + (query ? `?${query}` : ""));
    return <Redirect to={`/sign-in?next=${next}`} />;
  }
  if (role && state.account.role !== role) return <NotFoundPage />;
  return children;
}

function SignedOutOnly({ children }: { children: ReactNode }) {
  const { state } = useSession();
  if (state.status === "loading") return <Loading />;
  if (state.status === "signed-in") return <Redirect to="/account" />;
  return children;
}
