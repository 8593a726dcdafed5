import createClient, { type Middleware } from "openapi-fetch";
import createQueryHooks from "openapi-react-query";
import { isOutage, run } from "./problems";
import type { paths } from "./schema";
import type { Problem, Schemas } from "./types";

type Tokens = Schemas["AuthenticatedResponse"];

/** Name of the cross-tab lock held while a tab trades the refresh cookie. */
export const REFRESH_LOCK = "custadmin-refresh";

/**
 * Runs `task` while no other tab of this origin refreshes. Two tabs presenting the same refresh
 * cookie at once would look like token theft to the server, so they take turns.
 */
async function oneTabAtATime<T>(task: () => Promise<T>): Promise<T> {
  // jsdom and older browsers lack Web Locks: the in-tab sharing in `Session.refresh` still holds.
  const locks: LockManager | undefined = globalThis.navigator?.locks;
  return locks ? await locks.request(REFRESH_LOCK, task) : task();
}

/**
 * Holds the short-lived access token in memory only (never in web storage).
 * The refresh token lives in the HttpOnly cookie the server sets; the SPA never sees it.
 */
export class Session {
  private accessToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private readonly expiredListeners = new Set<() => void>();

  /**
   * `exchange` trades the refresh cookie for a new access token, or null when the cookie is no
   * good; it throws a `RefreshOutage` when the server could not be asked (that is no sign-out).
   */
  constructor(private readonly exchange: () => Promise<string | null>) {}

  get token(): string | null {
    return this.accessToken;
  }

  accept(tokens: Pick<Tokens, "access_token">): void {
    this.accessToken = tokens.access_token;
  }

  forget(): void {
    this.accessToken = null;
  }

  onExpired(listener: () => void): () => void {
    this.expiredListeners.add(listener);
    return () => this.expiredListeners.delete(listener);
  }

  expire(): void {
    this.forget();
    for (const listener of this.expiredListeners) listener();
  }

  /**
   * Trades the refresh cookie for a new access token. Concurrent callers in this tab share one
   * request, and tabs take turns: the server rotates the refresh token and treats reuse as theft.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    // A tab that waited for another one simply refreshes again: the cookie is the rotated one now.
    const token = await oneTabAtATime(this.exchange);
    this.accessToken = token;
    return token !== null;
  }
}

/** Calls that never carry the bearer token nor trigger a refresh. */
const ANONYMOUS = [
  "/api/v1/auth/login",
  "/api/v1/auth/otp",
  "/api/v1/auth/webauthn/options",
  "/api/v1/auth/passkey/options",
  "/api/v1/auth/passkey",
  "/api/v1/auth/refresh",
  "/api/v1/auth/register",
  // Links from mails: they prove themselves by their token, whoever is signed in in this tab.
  "/api/v1/auth/email/verify",
  "/api/v1/auth/password-reset",
  "/api/v1/auth/password-reset/confirm",
];

function isAnonymous(request: Request): boolean {
  const path = new URL(request.url).pathname;
  return ANONYMOUS.includes(path);
}

/** Adds the bearer token, and on a `401` refreshes once and retries the request. */
function sessionMiddleware(session: Session, fetchImpl: typeof fetch): Middleware {
  const retries = new Map<string, Request>();
  return {
    onRequest({ request, id }) {
      if (isAnonymous(request)) return request;
      if (session.token) request.headers.set("Authorization", `Bearer ${session.token}`);
      retries.set(id, request.clone());
      return request;
    },
    async onResponse({ response, id }) {
      const retry = retries.get(id);
      retries.delete(id);
      if (!retry || response.status !== 401) return response;
      let refreshed: boolean;
      try {
        refreshed = await session.refresh();
      } catch {
        return response; // the server is out of reach: keep the session for a later try
      }
      if (!refreshed) {
        session.expire();
        return response;
      }
      retry.headers.set("Authorization", `Bearer ${session.token ?? ""}`);
      const second = await fetchImpl(retry);
      if (second.status === 401) session.expire();
      return second;
    },
    onError({ id }) {
      retries.delete(id);
    },
  };
}

export function createApi(fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init)) {
  const client = createClient<paths>({
    baseUrl: globalThis.location?.origin ?? "http://localhost",
    fetch: fetchImpl,
    credentials: "same-origin",
  });
  // Without a `refresh_token` field the server reads the HttpOnly cookie; the JSON body (and so
  // its Content-Type) is what passes the server's CSRF check.
  const session = new Session(async () => {
    const result = await run(client.POST("/api/v1/auth/refresh", { body: {} }));
    if (result.ok) return result.data.access_token;
    if (isOutage(result.problem)) throw new RefreshOutage(result.problem);
    return null;
  });
  client.use(sessionMiddleware(session, fetchImpl));
  // TanStack Query hooks typed by the same `paths`: cached queries with one loading/error shape.
  const $api = createQueryHooks(client);
  return { client, session, $api };
}

/** The refresh could not reach a working server: the customer is not signed out by it. */
export class RefreshOutage extends Error {
  constructor(readonly problem: Problem) {
    super(problem.code);
  }
}
