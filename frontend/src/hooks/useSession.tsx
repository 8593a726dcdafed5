import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useLogout } from "../api/auth";
import { RefreshOutage } from "../api/client";
import { useApi } from "../api/context";
import { localProblem, settle, toProblem } from "../api/problems";
import { accountQuery } from "../api/queries";
import type { Account, Problem, Schemas } from "../api/types";

export type SessionState =
  | { status: "loading" }
  /** `deliberate`: the customer pressed Sign out (no `next` to come back to). */
  | { status: "signed-out"; expired: boolean; deliberate?: boolean }
  /** The server or the network failed us: the customer is still signed in, so offer a retry. */
  | { status: "unavailable"; problem: Problem; retry: () => void }
  | { status: "signed-in"; account: Account };

type Auth = { status: "loading" } | { status: "signed-out"; expired: boolean; deliberate?: boolean } | { status: "signed-in" } | { status: "outage"; problem: Problem };

type SessionContextValue = {
  state: SessionState;
  /** Keeps the tokens of a successful login and starts loading the account. */
  signIn: (tokens: Schemas["AuthenticatedResponse"]) => void;
  signOut: () => Promise<void>;
};

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const { session, $api } = useApi();
  const queryClient = useQueryClient();
  const { mutateAsync: logout } = useLogout();
  const [auth, setAuth] = useState<Auth>({ status: "loading" });
  const { data: account, error, refetch } = useQuery({
    ...accountQuery($api),
    enabled: auth.status === "signed-in",
    retry: false,
  });

  // A reload loses the in-memory access token: the refresh cookie brings it back.
  const restore = useCallback(() => {
    setAuth({ status: "loading" });
    session.refresh().then(
      (refreshed) => setAuth(refreshed ? { status: "signed-in" } : { status: "signed-out", expired: false }),
      (error: unknown) =>
        setAuth({ status: "outage", problem: error instanceof RefreshOutage ? error.problem : localProblem("network_error", 0) }),
    );
  }, [session]);

  useEffect(restore, [restore]);

  useEffect(
    () =>
      session.onExpired(() => {
        setAuth({ status: "signed-out", expired: true });
        queryClient.clear();
      }),
    [session, queryClient],
  );

  const signIn = useCallback(
    (tokens: Schemas["AuthenticatedResponse"]) => {
      session.accept(tokens);
      setAuth({ status: "signed-in" });
    },
    [session],
  );

  const signOut = useCallback(async () => {
    // Signed out here whatever the server answered: the tokens are forgotten either way.
    await settle(logout());
    session.forget();
    setAuth({ status: "signed-out", expired: false, deliberate: true });
    // The next person at this browser must not see this account's cached data.
    queryClient.clear();
  }, [logout, session, queryClient]);

  const state = useMemo((): SessionState => {
    switch (auth.status) {
      case "loading":
      case "signed-out":
        return auth;
      case "outage":
        return { status: "unavailable", problem: auth.problem, retry: restore };
      case "signed-in":
        if (account) return { status: "signed-in", account };
        if (error) return { status: "unavailable", problem: toProblem(error), retry: () => void refetch() };
        return { status: "loading" };
    }
  }, [auth, account, error, refetch, restore]);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
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
