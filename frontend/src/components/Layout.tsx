import type { ReactNode } from "react";
import { useRouter } from "../hooks/useRouter";
import { useSession } from "../hooks/useSession";

export function Link({ to, children }: { to: string; children: ReactNode }) {
  const { navigate } = useRouter();
  return (
    <a
      href={to}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { state, signOut } = useSession();
  const { navigate } = useRouter();
  const signedIn = state.status === "signed-in" ? state.account : null;

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <p className="brand">custadmin</p>
        {signedIn && (
          <nav aria-label="Main">
            <ul>
              <li>
                <Link to="/account">Account Settings</Link>
              </li>
              {signedIn.role === "support" && (
                <li>
                  <Link to="/support">Support desk</Link>
                </li>
              )}
              <li>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => void signOut().then(() => navigate("/sign-in?signed-out=1"))}
                >
                  Sign out
                </button>
              </li>
            </ul>
          </nav>
        )}
      </header>
      <main id="main">{children}</main>
    </>
  );
}
