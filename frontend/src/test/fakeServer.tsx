import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { expect } from "vitest";
import type { Account } from "../api/client";
import { createApi } from "../api/client";
import { App } from "../App";
import { ApiProvider } from "../hooks/useApi";
import { RouterProvider } from "../hooks/useRouter";
import { SessionProvider } from "../hooks/useSession";

type Handler = (request: Request) => Response | Promise<Response>;
export type Routes = Record<string, Handler>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function problem(
  status: number,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ type: "about:blank", title: code, status, detail: code, code, ...extra }), {
    status,
    headers: { "Content-Type": "application/problem+json", ...headers },
  });
}

/** What the server answers a same-origin browser: the refresh token travels only as a cookie. */
export const tokens = (access = "access-1") => ({
  status: "authenticated",
  access_token: access,
  token_type: "Bearer",
  expires_in: 900,
});

export function account(overrides: Partial<Account> = {}): Account {
  return {
    id: "7f1c9a52-3a4b-4f7e-9d7e-0c1b2a3d4e5f",
    username: "alice",
    email: "alice@example.com",
    role: "customer",
    created_at: "2026-11-30T09:00:00Z",
    two_factor: { enabled: false, enabled_at: null, recovery_codes_remaining: 0 },
    ...overrides,
  };
}

export type Call = {
  method: string;
  path: string;
  body: unknown;
  authorization: string | null;
  headers: Record<string, string>;
};

/**
 * A fake `fetch` for openapi-fetch: each route is "METHOD /path"; any other request fails the test
 * (the equivalent of MSW's onUnhandledRequest: "error").
 */
export function fakeFetch(routes: Routes) {
  const calls: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const key = `${request.method} ${url.pathname}`;
    const text = await request.clone().text();
    calls.push({
      method: request.method,
      path: url.pathname + url.search,
      body: text ? (JSON.parse(text) as unknown) : undefined,
      authorization: request.headers.get("Authorization"),
      headers: Object.fromEntries(request.headers),
    });
    const handler = routes[key];
    if (!handler) {
      const error = new Error(`unhandled request: ${key}`);
      expect.fail(error.message);
      throw error;
    }
    return handler(request);
  };
  return { fetchImpl: fetchImpl as typeof fetch, calls };
}

/** Signed-in routes: the refresh cookie works and the account loads. */
export function signedIn(current: Account = account()): Routes {
  return {
    "POST /api/v1/auth/refresh": () => json(200, tokens()),
    "GET /api/v1/account": () => json(200, current),
    "GET /api/v1/account/events": () => json(200, { events: [] }),
  };
}

export function signedOut(settings = { signup_enabled: true, issuer: "custadmin" }): Routes {
  return {
    "POST /api/v1/auth/refresh": () => problem(401, "invalid_refresh_token"),
    "GET /api/v1/config": () => json(200, settings),
  };
}

export function renderApp(routes: Routes, path = "/") {
  window.history.replaceState(null, "", path);
  const { fetchImpl, calls } = fakeFetch(routes);
  const api = createApi(fetchImpl);
  const user = userEvent.setup();
  const view = render(
    <ApiProvider api={api}>
      <RouterProvider>
        <SessionProvider>
          <App />
        </SessionProvider>
      </RouterProvider>
    </ApiProvider>,
  );
  return { ...view, user, calls, api };
}

export function bodiesOf(calls: Call[], path: string): unknown[] {
  return calls.filter((c) => c.path.startsWith(path)).map((c) => c.body);
}
