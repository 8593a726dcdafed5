import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { expect } from "vitest";
import { createApi } from "../api/client";
import type { paths } from "../api/schema";
import type { Account, Language, ProblemCode, Schemas } from "../api/types";
import { App } from "../App";
import { AppProviders, createQueryClient } from "../AppProviders";

// ---- Types that tie every fake handler to openapi.yaml -------------------------------------

type Method = "get" | "post" | "patch" | "put" | "delete";
type Operation<P extends keyof paths, M extends Method> = paths[P][M] extends { responses: infer R } ? R : never;
type MethodsOf<P extends keyof paths> = { [M in Method]: paths[P][M] extends { responses: unknown } ? M : never }[Method];

/** "METHOD /path" for every operation of the spec. */
export type RouteKey = { [P in keyof paths]: `${Uppercase<MethodsOf<P>>} ${P & string}` }[keyof paths];
type Parse<K extends RouteKey> = K extends `${infer M} ${infer P}`
  ? P extends keyof paths
    ? Lowercase<M> extends MethodsOf<P>
      ? Operation<P, Lowercase<M>>
      : never
    : never
  : never;
type BodyOf<R> = R extends { content: infer C } ? C[keyof C] : undefined;

/** What a route may answer: a status the spec lists for it, with the body the spec gives that status. */
export type Reply<K extends RouteKey> = {
  [S in keyof Parse<K>]: { status: S; body: BodyOf<Parse<K>[S]>; headers?: Record<string, string> };
}[keyof Parse<K>];

type Handler<K extends RouteKey> = (request: Request) => Reply<K> | Promise<Reply<K>>;
export type Routes = { [K in RouteKey]?: Handler<K> };

export function json<S extends number, B>(status: S, body: B, headers: Record<string, string> = {}) {
  return { status, body, headers };
}

export function noContent<S extends number>(status: S) {
  return { status, body: undefined, headers: {} };
}

export function problem<S extends number>(
  status: S,
  code: ProblemCode,
  extra: Partial<Schemas["Problem"]> = {},
  headers: Record<string, string> = {},
) {
  const body: Schemas["Problem"] = { type: "about:blank", title: code, status, detail: code, code, ...extra };
  return { status, body, headers: { "Content-Type": "application/problem+json", ...headers } };
}

// ---- Fixtures ----------------------------------------------------------------------------

/** What the server answers a same-origin browser: the refresh token travels only as a cookie. */
export const tokens = (access = "access-1") => ({
  status: "authenticated" as const,
  access_token: access,
  token_type: "Bearer" as const,
  expires_in: 900,
});

/** The password was right; the code step comes next. */
export const otpRequired = (challenge = "chal", methods: Schemas["SecondFactorMethod"][] = ["totp", "recovery_code"]) => ({
  status: "otp_required" as const,
  challenge_token: challenge,
  expires_in: 300,
  methods,
});

/** `GET /config` as a server with nothing branded answers (the support contact set). */
export function publicSettings(overrides: Partial<Schemas["PublicSettings"]> = {}): Schemas["PublicSettings"] {
  return {
    signup_enabled: true,
    issuer: "custadmin",
    support_contact: "help@example.com",
    site_name: "custadmin",
    logo_url: null,
    brand_color: null,
    ...overrides,
  };
}

export function account(overrides: Partial<Account> = {}): Account {
  return {
    id: "7f1c9a52-3a4b-4f7e-9d7e-0c1b2a3d4e5f",
    username: "alice",
    email: "alice@example.com",
    email_verified: true,
    pending_email: null,
    language: null,
    role: "customer",
    created_at: "2026-11-30T09:00:00Z",
    two_factor: { enabled: false, enabled_at: null, recovery_codes_remaining: 0, required: false, setup_required: false, methods: [] },
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
 * A fake `fetch` for openapi-fetch: each route is "METHOD /path" of the spec; any other request
 * fails the test (the equivalent of MSW's onUnhandledRequest: "error").
 */
export function fakeFetch(routes: Routes) {
  const calls: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const text = await request.clone().text();
    calls.push({
      method: request.method,
      path: url.pathname + url.search,
      body: text ? (JSON.parse(text) as unknown) : undefined,
      authorization: request.headers.get("Authorization"),
      headers: Object.fromEntries(request.headers),
    });
    const handler = findHandler(routes, request.method, url.pathname);
    if (!handler) {
      const error = new Error(`unhandled request: ${request.method} ${url.pathname}`);
      expect.fail(error.message);
      throw error;
    }
    const reply = await handler(request);
    if (reply.body === undefined) return new Response(null, { status: reply.status, headers: reply.headers });
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { "Content-Type": "application/json", ...reply.headers },
    });
  };
  return { fetchImpl: fetchImpl as typeof fetch, calls };
}

type AnyReply = { status: number; body: unknown; headers?: Record<string, string> };

/** Matches templated paths too: `/support/customers/{id}/events` takes any id. */
function findHandler(routes: Routes, method: string, pathname: string) {
  for (const [key, handler] of Object.entries(routes) as [string, (r: Request) => AnyReply | Promise<AnyReply>][]) {
    const [m, template] = key.split(" ") as [string, string];
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (m === method && pattern.test(pathname)) return handler;
  }
  return undefined;
}

/** Signed-in routes: the refresh cookie works and the account loads. */
export function signedIn(current: Account = account()): Routes {
  return {
    "POST /api/v1/auth/refresh": () => json(200, tokens()),
    "GET /api/v1/account": () => json(200, current),
    "GET /api/v1/account/events": () => json(200, { events: [] }),
    "GET /api/v1/account/sessions": () => json(200, { sessions: [thisSession()] }),
    "GET /api/v1/account/devices": () => json(200, { devices: [] }),
    "GET /api/v1/account/api-tokens": () => json(200, { tokens: [] }),
    "GET /api/v1/account/passkeys": () => json(200, { passkeys: [] }),
    "GET /api/v1/account/apps": () => json(200, []),
    "GET /api/v1/config": () => json(200, publicSettings()),
  };
}

/** The session the fake browser is signed in with. */
export function thisSession(overrides: Partial<Schemas["SessionSummary"]> = {}): Schemas["SessionSummary"] {
  return {
    id: "5b0e1d2c-0000-4000-8000-000000000001",
    current: true,
    created_at: "2026-12-01T08:00:00Z",
    last_used_at: "2026-12-02T06:00:00Z",
    ip: "192.0.2.10",
    user_agent: "Mozilla/5.0 (X11; Linux x86_64)",
    amr: ["pwd"],
    ...overrides,
  };
}

export function signedOut(settings: Schemas["PublicSettings"] = publicSettings()): Routes {
  return {
    "POST /api/v1/auth/refresh": () => problem(401, "invalid_refresh_token"),
    "GET /api/v1/config": () => json(200, settings),
  };
}

export function renderApp(routes: Routes, path = "/", language: Language = "en") {
  window.history.replaceState(null, "", path);
  const { fetchImpl, calls } = fakeFetch(routes);
  const api = createApi(fetchImpl);
  const queryClient = createQueryClient();
  const user = userEvent.setup();
  const view = render(
    <AppProviders api={api} queryClient={queryClient} language={language}>
      <App />
    </AppProviders>,
  );
  return { ...view, user, calls, api, queryClient };
}

export function bodiesOf(calls: Call[], path: string): unknown[] {
  return calls.filter((c) => c.path.startsWith(path)).map((c) => c.body);
}
