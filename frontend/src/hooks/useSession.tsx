import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { Account, Schemas } from "../api/client";
import { run } from "../api/problems";
import { useApi } from "./useApi";

type SessionState =
  | { status: "loading" }
  | { status: "signed-out"; expired: boolean }
  | { status: "signed-in"; account: Account };

type SessionContextValue = {
  state: SessionState;
  /** Keeps the tokens of a successful login and loads the account. */
  signIn: (tokens: Schemas["AuthenticatedResponse"]) => Promise<boolean>;
  signOut: () => Promise<void>;
  reloadAccount: () => Promise<void>;
};

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const { client, session } = useApi();
  const [state, setState] = useState<SessionState>({ status: "loading" });

  const loadAccount = useCallback(async (): Promise<boolean> => {
    const result = await run(client.GET("/api/v1/account"));
    if (result.ok) {
      setState({ status: "signed-in", account: result.data });
      return true;
    }
    setState({ status: "signed-out", expired: false });
    return false;
  }, [client]);

  // A reload loses the in-memory access token: the refresh cookie brings it back.
  useEffect(() => {
    let cancelled = false;
    void session.refresh().then(async (refreshed) => {
      if (cancelled) return;
      if (refreshed) await loadAccount();
      else setState({ status: "signed-out", expired: false });
    });
    return () => {
      cancelled = true;
    };
  }, [session, loadAccount]);

  useEffect(() => session.onExpired(() => setState({ status: "signed-out", expired: true })), [session]);

  const signIn = useCallback(
    async (tokens: Schemas["AuthenticatedResponse"]) => {
      session.accept(tokens);
      return loadAccount();
    },
    [session, loadAccount],
  );

  const signOut = useCallback(async () => {
    // The header lets the server accept a logout by cookie alone (its CSRF check), e.g. when the
    // access token is gone; with a token it changes nothing.
    await run(client.POST("/api/v1/auth/logout", { headers: { "X-Requested-With": "XMLHttpRequest" } }));
    session.forget();
    setState({ status: "signed-out", expired: false });
  }, [client, session]);

  const reloadAccount = useCallback(async () => {
    await loadAccount();
  }, [loadAccount]);

  const value = useMemo(
    () => ({ state, signIn, signOut, reloadAccount }),
    [state, signIn, signOut, reloadAccount],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession must be used inside <SessionProvider>");
  return value;
}

/** The signed-in account; only for pages rendered behind the sign-in guard. */
export function useAccount(): Account {
  const { state } = useSession();
  if (state.status !== "signed-in") throw new Error("useAccount needs a signed-in session");
  return state.account;
}
