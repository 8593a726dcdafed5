import { assertion, webauthn } from "../test/webauthn";
import { screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Account, Schemas } from "../api/types";
import { leaveTo } from "../navigation";
import { account, bodiesOf, json, otpRequired, problem, renderApp, signedIn, signedOut, tokens, type Reply, type Routes } from "../test/fakeServer";
import { requestedLanguage } from "./AuthorizePage";

// The browser leaving for the app is the end of every flow here: recorded, not followed.
vi.mock("../navigation", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../navigation")>()),
  leaveTo: vi.fn(),
}));
const left = vi.mocked(leaveTo);

type View = Schemas["AuthorizationRequestView"];

const REQUEST = "rq_Zm9vYmFyYmF6";
const PAGE = `/authorize?request=${REQUEST}`;
const VIEW_PATH = `/api/v1/oidc/authorization-requests/${REQUEST}`;
const CODE_URL = "https://app.example/callback?code=c0de&state=s1&iss=http%3A%2F%2Flocalhost";
const DENIED_URL = "https://app.example/callback?error=access_denied&state=s1&iss=http%3A%2F%2Flocalhost";
const INTERACTION_URL = "https://app.example/callback?error=interaction_required&state=s1&iss=http%3A%2F%2Flocalhost";
const LOGIN_REQUIRED_URL = "https://app.example/callback?error=login_required&state=s1&iss=http%3A%2F%2Flocalhost";

function view(overrides: Partial<View> = {}): View {
  return {
    client: { id: "ca_example", name: "Example App" },
    scopes: ["openid", "profile", "email"],
    prompt: null,
    login_hint: null,
    ui_locales: null,
    acr_required: null,
    next: "consent",
    consent_remembered: false,
    expires_at: "2026-12-09T10:30:00Z",
    ...overrides,
  };
}

const withTotp: Account["two_factor"] = {
  enabled: true,
  enabled_at: "2026-12-01T10:00:00Z",
  recovery_codes_remaining: 10,
  required: false,
  setup_required: false,
  methods: ["totp", "recovery_code"],
};
const withTotpAndPasskey: Account["two_factor"] = { ...withTotp, methods: ["totp", "webauthn", "recovery_code"] };

/** What `POST /account/webauthn/options` answers: request options under `publicKey`. */
const requestOptions = {
  options: { publicKey: { challenge: "c3RlcHVw", rpId: "localhost", userVerification: "preferred" } } as unknown as Record<string, never>,
};

/** A signed-in browser at the request; `approve` decides about each approval's body. */
function signedInAt(
  current: View,
  approve: (body: Record<string, unknown>) => Reply<"POST /api/v1/oidc/authorization-requests/{id}/approve"> = () =>
    json(200, { redirect_to: CODE_URL }),
  who: Account = account(),
  extra: Routes = {},
): Routes {
  return {
    ...signedIn(who),
    "GET /api/v1/oidc/authorization-requests/{id}": () => json(200, current),
    "POST /api/v1/oidc/authorization-requests/{id}/approve": async (request) =>
      approve((await request.json()) as Record<string, unknown>),
    "POST /api/v1/oidc/authorization-requests/{id}/deny": () => json(200, { redirect_to: DENIED_URL }),
    ...extra,
  };
}

const approvals = (calls: ReturnType<typeof renderApp>["calls"]) => bodiesOf(calls, `${VIEW_PATH}/approve`);

beforeEach(() => {
  left.mockReset();
});

describe("an app's sign-in request", () => {
  it("asks a signed-out customer to log in (the app's login_hint filled in), then for the code, then goes on here", async () => {
    let signedInNow = false;
    const { user, calls } = renderApp(
      {
        ...signedOut(),
        "POST /api/v1/auth/login": () => json(200, otpRequired("chal")),
        "POST /api/v1/auth/otp": () => {
          signedInNow = true;
          return json(200, tokens("fresh"));
        },
        "GET /api/v1/account": () => json(200, account({ two_factor: withTotp })),
        "GET /api/v1/account/events": () => json(200, { events: [] }),
        "GET /api/v1/oidc/authorization-requests/{id}": () =>
          json(200, signedInNow ? view({ next: "consent" }) : view({ next: "sign_in", login_hint: "alice" })),
        "POST /api/v1/oidc/authorization-requests/{id}/approve": () => json(200, { redirect_to: CODE_URL }),
      },
      PAGE,
    );
    expect(await screen.findByRole("heading", { name: "Log in", level: 1 })).toHaveFocus();
    expect(screen.getByText("Log in to continue to Example App.")).toBeInTheDocument();
    expect(screen.getByLabelText("Username")).toHaveValue("alice");
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    await user.type(await screen.findByLabelText("Six-digit code"), "123456");
    await user.click(screen.getByRole("button", { name: "Log in" }));

    // Back on the request, now read with the new session.
    expect(await screen.findByRole("heading", { name: "Allow Example App to use your account?", level: 1 })).toHaveFocus();
    const reads = calls.filter((c) => c.method === "GET" && c.path === VIEW_PATH);
    expect(reads.map((c) => c.authorization)).toEqual([null, "Bearer fresh"]);
    expect(bodiesOf(calls, "/api/v1/auth/login")).toEqual([{ username: "alice", password: "correct horse battery" }]);
    expect(window.location.pathname + window.location.search).toBe(PAGE);
    await user.click(screen.getByRole("button", { name: "Allow" }));
    await waitFor(() => expect(left).toHaveBeenCalledWith(CODE_URL));
    expect(approvals(calls)).toEqual([{ consent: true }]);
  });

  it("shows the consent card: the app's name and, line by line, what it will see", async () => {
    const { user, calls } = renderApp(
      signedInAt(view({ scopes: ["openid", "profile", "email", "offline_access"] })),
      PAGE,
    );
    expect(await screen.findByRole("heading", { name: "Allow Example App to use your account?", level: 1 })).toHaveFocus();
    const list = screen.getByRole("list", { name: "If you allow it, Example App will be able to:" });
    expect(within(list).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "Recognise you by this account (it never sees your password)",
      "See your username and language",
      "See your email address and whether it is confirmed",
      "Stay signed in when you are away, until you remove its access",
    ]);
    expect(screen.getByText("You are logged in as alice.")).toBeInTheDocument();
    // The session's own read carried its token.
    expect(calls.find((c) => c.path === VIEW_PATH)?.authorization).toBe("Bearer access-1");
    await user.click(screen.getByRole("button", { name: "Allow" }));
    await waitFor(() => expect(left).toHaveBeenCalledWith(CODE_URL));
    expect(approvals(calls)).toEqual([{ consent: true }]);
    expect(await screen.findByText("Taking you back to Example App…")).toBeInTheDocument();
  });

  it("sends the customer back with access_denied when they deny", async () => {
    const { user, calls } = renderApp(signedInAt(view()), PAGE);
    await user.click(await screen.findByRole("button", { name: "Deny" }));
    await waitFor(() => expect(left).toHaveBeenCalledWith(DENIED_URL));
    expect(bodiesOf(calls, `${VIEW_PATH}/deny`)).toEqual([{ reason: "denied" }]);
    expect(approvals(calls)).toEqual([]);
  });

  it("approves at once when nothing needs asking", async () => {
    const { calls } = renderApp(signedInAt(view({ next: "ready", consent_remembered: true })), PAGE);
    await waitFor(() => expect(left).toHaveBeenCalledWith(CODE_URL));
    // Consent is never implied: the server had it already.
    expect(approvals(calls)).toEqual([{ consent: false }]);
    expect(screen.queryByRole("button", { name: "Allow" })).not.toBeInTheDocument();
  });

  it("shows the consent card when the server answers 409 consent_required after all", async () => {
    const { user, calls } = renderApp(
      signedInAt(view({ next: "ready", consent_remembered: true }), (body) =>
        body.consent ? json(200, { redirect_to: CODE_URL }) : problem(409, "consent_required"),
      ),
      PAGE,
    );
    expect(await screen.findByRole("heading", { name: "Allow Example App to use your account?" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Please decide first whether the app may use your account.");
    expect(left).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Allow" }));
    await waitFor(() => expect(left).toHaveBeenCalledWith(CODE_URL));
    expect(approvals(calls)).toEqual([{ consent: false }, { consent: true }]);
  });

  it("asks for a second factor when the server answers 403 step_up_required, and sends consent with the code", async () => {
    const { user, calls } = renderApp(
      signedInAt(
        view(),
        (body) => (body.code ? json(200, { redirect_to: CODE_URL }) : problem(403, "step_up_required")),
        account({ two_factor: withTotp }),
      ),
      PAGE,
    );
    await user.click(await screen.findByRole("button", { name: "Allow" }));
    expect(await screen.findByRole("heading", { name: "Confirm it's you for Example App", level: 1 })).toHaveFocus();
    expect(screen.getByRole("alert")).toHaveTextContent("Please confirm it's you with your second factor first.");
    await user.type(screen.getByLabelText("Six-digit code"), "123 456");
    await user.click(screen.getByRole("button", { name: "Allow and continue" }));
    await waitFor(() => expect(left).toHaveBeenCalledWith(CODE_URL));
    expect(approvals(calls)).toEqual([{ consent: true }, { consent: true, code: "123456" }]);
  });

  it("asks for a newer sign-in when the server answers 403 reauthentication_required", async () => {
    renderApp(signedInAt(view({ next: "ready", consent_remembered: true }), () => problem(403, "reauthentication_required")), PAGE);
    expect(await screen.findByRole("heading", { name: "Log in", level: 1 })).toHaveFocus();
    expect(screen.getByText("Log in to continue to Example App.")).toBeInTheDocument();
    expect(screen.getByLabelText("Username")).toHaveValue("alice");
    expect(left).not.toHaveBeenCalled();
  });

  it("leads to the two-factor set-up when the server answers 403 two_factor_required", async () => {
    const { user } = renderApp(signedInAt(view(), () => problem(403, "two_factor_required")), PAGE);
    await user.click(await screen.findByRole("button", { name: "Allow" }));
    expect(await screen.findByRole("heading", { name: "Example App requires two-factor authentication" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toBeInTheDocument();
  });

  it("steps up with a six-digit code (a recovery code does not count) and retries after a wrong one", async () => {
    const { user, calls } = renderApp(
      signedInAt(
        view({ next: "step_up", acr_required: "mfa", consent_remembered: true }),
        (body) => (body.code === "654321" ? json(200, { redirect_to: CODE_URL }) : problem(400, "invalid_code")),
        account({ two_factor: withTotp }),
      ),
      PAGE,
    );
    expect(await screen.findByRole("heading", { name: "Confirm it's you for Example App", level: 1 })).toHaveFocus();
    expect(
      screen.getByText("Example App asks for two-factor authentication: enter the six-digit code your OTP application shows."),
    ).toBeInTheDocument();
    expect(screen.queryByLabelText("Recovery code")).not.toBeInTheDocument();
    expect(screen.queryByRole("checkbox", { name: "Use a recovery code instead" })).not.toBeInTheDocument();
    // Consent is remembered: no list of what the app sees.
    expect(within(screen.getByRole("main")).queryByRole("list")).not.toBeInTheDocument();

    const code = screen.getByLabelText("Six-digit code");
    await user.type(code, "111111");
    await user.click(screen.getByRole("button", { name: "Continue" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code did not work.");
    expect(code).toHaveFocus();
    expect(code).toHaveValue("");
    await user.type(code, "654321");
    await user.click(screen.getByRole("button", { name: "Continue" }));
    await waitFor(() => expect(left).toHaveBeenCalledWith(CODE_URL));
    expect(approvals(calls)).toEqual([
      { consent: false, code: "111111" },
      { consent: false, code: "654321" },
    ]);
  });

  it("steps up with a passkey only when the app asks for hardware, sending the passkey's answer with the consent", async () => {
    const { user, calls } = renderApp(
      signedInAt(
        view({ next: "step_up", acr_required: "hwk" }),
        (body) => (body.webauthn ? json(200, { redirect_to: CODE_URL }) : problem(403, "step_up_required")),
        account({ two_factor: withTotpAndPasskey }),
        { "POST /api/v1/account/webauthn/options": () => json(200, requestOptions) },
      ),
      PAGE,
    );
    expect(await screen.findByRole("heading", { name: "Confirm it's you for Example App" })).toBeInTheDocument();
    expect(
      screen.getByText("Example App asks you to confirm it's you with a passkey or security key; it accepts nothing else."),
    ).toBeInTheDocument();
    // The account has an OTP application, but hardware was asked for.
    expect(screen.queryByLabelText("Six-digit code")).not.toBeInTheDocument();
    expect(screen.getByRole("list", { name: "By continuing, you also allow Example App to:" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Allow with your passkey or security key" }));
    await waitFor(() => expect(left).toHaveBeenCalledWith(CODE_URL));
    expect(webauthn.startAuthentication).toHaveBeenCalledWith({ optionsJSON: requestOptions.options.publicKey });
    expect(approvals(calls)).toEqual([{ consent: true, webauthn: JSON.parse(JSON.stringify(assertion)) as unknown }]);
  });

  it("offers a code or a passkey for mfa when the account has both", async () => {
    renderApp(
      signedInAt(view({ next: "step_up", acr_required: "mfa", consent_remembered: true }), undefined, account({ two_factor: withTotpAndPasskey })),
      PAGE,
    );
    expect(await screen.findByRole("button", { name: "Confirm with your passkey or security key" })).toBeInTheDocument();
    expect(screen.getByLabelText("Six-digit code")).toBeInTheDocument();
  });

  it("leads an account without a second factor to set one up and back here", async () => {
    const { calls } = renderApp(signedInAt(view({ next: "set_up_two_factor", acr_required: "mfa" })), PAGE);
    expect(
      await screen.findByRole("heading", { name: "Example App requires two-factor authentication", level: 1 }),
    ).toHaveFocus();
    expect(screen.getByRole("link", { name: "Set up two-factor authentication" })).toHaveAttribute(
      "href",
      `/two-factor-setup?return=${encodeURIComponent(PAGE)}`,
    );
    expect(screen.getByRole("button", { name: "Deny" })).toBeInTheDocument();
    expect(approvals(calls)).toEqual([]);
  });

  it("prompt=none, signed in: no page, the server's answer goes straight back to the app", async () => {
    const { calls } = renderApp(signedInAt(view({ prompt: "none", next: "consent" })), PAGE);
    await waitFor(() => expect(left).toHaveBeenCalledWith(CODE_URL));
    expect(approvals(calls)).toEqual([{ consent: false }]);
    expect(bodiesOf(calls, `${VIEW_PATH}/deny`)).toEqual([]);
    expect(screen.queryByRole("heading")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Allow" })).not.toBeInTheDocument();
  });

  it("prompt=none, with a session that may only set up a second factor: the server's answer still goes back", async () => {
    const overdue = account({ two_factor: { ...withTotp, enabled: false, methods: [], required: true, setup_required: true } });
    const { calls } = renderApp(
      signedInAt(view({ prompt: "none", next: "set_up_two_factor" }), () => json(200, { redirect_to: INTERACTION_URL }), overdue),
      PAGE,
    );
    await waitFor(() => expect(left).toHaveBeenCalledWith(INTERACTION_URL));
    expect(approvals(calls)).toEqual([{ consent: false }]);
    expect(screen.queryByRole("heading")).not.toBeInTheDocument();
  });

  it("prompt=none, signed out: no page, the app learns there is no session", async () => {
    const { calls } = renderApp(
      {
        ...signedOut(),
        "GET /api/v1/oidc/authorization-requests/{id}": () => json(200, view({ prompt: "none", next: "sign_in" })),
        "POST /api/v1/oidc/authorization-requests/{id}/deny": () => json(200, { redirect_to: LOGIN_REQUIRED_URL }),
      },
      PAGE,
    );
    await waitFor(() => expect(left).toHaveBeenCalledWith(LOGIN_REQUIRED_URL));
    expect(bodiesOf(calls, `${VIEW_PATH}/deny`)).toEqual([{ reason: "no_session" }]);
    expect(approvals(calls)).toEqual([]);
    expect(screen.queryByLabelText("Username")).not.toBeInTheDocument();
    expect(screen.queryByRole("heading")).not.toBeInTheDocument();
  });

  it("says an expired or used request has expired, in the customer's language", async () => {
    renderApp(
      { ...signedOut(), "GET /api/v1/oidc/authorization-requests/{id}": () => problem(404, "not_found") },
      PAGE,
      "cs",
    );
    expect(await screen.findByRole("heading", { name: "Platnost této žádosti o přihlášení vypršela", level: 1 })).toHaveFocus();
    expect(left).not.toHaveBeenCalled();
  });

  it("shows other problems with a retry", async () => {
    let attempts = 0;
    const { user } = renderApp(
      {
        ...signedOut(),
        "GET /api/v1/oidc/authorization-requests/{id}": () =>
          ++attempts === 1 ? problem(503, "database_unavailable") : json(200, view({ next: "sign_in" })),
      },
      PAGE,
    );
    expect(await screen.findByRole("alert")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("Log in to continue to Example App.")).toBeInTheDocument();
  });

  it("takes the app's ui_locales when the customer has not chosen a language", async () => {
    renderApp(
      {
        ...signedOut(),
        "GET /api/v1/oidc/authorization-requests/{id}": () => json(200, view({ next: "sign_in", ui_locales: "de cs-CZ en" })),
      },
      PAGE,
    );
    expect(await screen.findByText("Přihlaste se, abyste mohli pokračovat do aplikace Example App.")).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("cs");
  });

  it("keeps the language the customer chose on their account over the app's", async () => {
    renderApp(signedInAt(view({ ui_locales: "cs" }), undefined, account({ language: "en" })), PAGE);
    expect(await screen.findByRole("heading", { name: "Allow Example App to use your account?" })).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("en");
  });

  it("reads ui_locales: the first tag this SPA speaks", () => {
    expect(requestedLanguage("de cs-CZ en")).toBe("cs");
    expect(requestedLanguage("EN-gb")).toBe("en");
    expect(requestedLanguage("fr de")).toBeNull();
    expect(requestedLanguage(null)).toBeNull();
  });

  it("shows a missing request as expired", async () => {
    renderApp(signedOut(), "/authorize");
    expect(await screen.findByRole("heading", { name: "This login request has expired" })).toBeInTheDocument();
  });
});
