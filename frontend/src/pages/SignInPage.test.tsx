import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { safeNext } from "../App";
import { account, bodiesOf, json, noContent, otpRequired, problem, publicSettings, renderApp, signedOut, tokens, type Routes } from "../test/fakeServer";

const loginRoutes = (login: NonNullable<Routes["POST /api/v1/auth/login"]>, extra: Routes = {}): Routes => ({
  ...signedOut(),
  "POST /api/v1/auth/login": login,
  "GET /api/v1/account": () => json(200, account()),
  "GET /api/v1/account/events": () => json(200, { events: [] }),
  ...extra,
});

async function enterPassword(user: ReturnType<typeof renderApp>["user"]) {
  await user.type(await screen.findByLabelText("Username"), "alice");
  await user.type(screen.getByLabelText("Password"), "correct horse battery");
  await user.click(screen.getByRole("button", { name: "Log in" }));
}

describe("sign-in", () => {
  it("offers sign-up only when the server allows it", async () => {
    renderApp(signedOut(), "/sign-in");
    expect(await screen.findByRole("link", { name: "Create an account" })).toBeInTheDocument();
  });

  it("hides sign-up when the server has it switched off", async () => {
    const { calls } = renderApp(signedOut(publicSettings({ signup_enabled: false, support_contact: null })), "/sign-in");
    await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/config")).toBe(true));
    await screen.findByLabelText("Username");
    expect(screen.queryByRole("link", { name: "Create an account" })).not.toBeInTheDocument();
  });

  it("logs in with username and password and opens Account Settings", async () => {
    const { user, calls } = renderApp(loginRoutes(() => json(200, tokens("abc"))), "/sign-in");
    await enterPassword(user);
    expect(await screen.findByRole("heading", { name: "Account Settings", level: 1 })).toHaveFocus();
    expect(bodiesOf(calls, "/api/v1/auth/login")).toEqual([{ username: "alice", password: "correct horse battery" }]);
    expect(calls.find((c) => c.path === "/api/v1/account")?.authorization).toBe("Bearer abc");
    expect(window.location.pathname).toBe("/account");
    expect(localStorage.length + sessionStorage.length).toBe(0);
  });

  it("asks for the six-digit code when the API answers otp_required", async () => {
    const { user, calls } = renderApp(
      loginRoutes(() => json(200, otpRequired("chal")), {
        "POST /api/v1/auth/otp": () => json(200, tokens()),
      }),
      "/sign-in",
    );
    await enterPassword(user);
    expect(await screen.findByRole("heading", { name: "Two-factor authentication" })).toHaveFocus();
    const code = screen.getByLabelText("Six-digit code");
    expect(code).toHaveAttribute("autocomplete", "one-time-code");
    expect(code).toHaveAttribute("inputmode", "numeric");
    expect(screen.getByText(/If you have lost access to your OTP application/)).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "help@example.com" })).toHaveAttribute("href", "mailto:help@example.com");
    await user.type(code, "123 456");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(bodiesOf(calls, "/api/v1/auth/otp")).toEqual([{ challenge_token: "chal", code: "123456" }]);
  });

  it("sends remember_device with the code only when 'Don't ask for a code on this device' is ticked", async () => {
    const { user, calls } = renderApp(
      loginRoutes(() => json(200, otpRequired("chal")), {
        "POST /api/v1/auth/otp": async (request) => {
          const body = (await request.json()) as { code?: string };
          return body.code === "111111" ? problem(400, "invalid_code") : json(200, tokens());
        },
      }),
      "/sign-in",
    );
    await enterPassword(user);
    const remember = await screen.findByRole("checkbox", { name: "Don't ask for a code on this device for 30 days" });
    expect(remember).not.toBeChecked();
    expect(remember).toHaveAccessibleDescription(/Only on a device nobody else uses/);
    await user.type(screen.getByLabelText("Six-digit code"), "111111");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByRole("alert");
    await user.click(remember);
    await user.type(screen.getByLabelText("Six-digit code"), "123456");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(bodiesOf(calls, "/api/v1/auth/otp")).toEqual([
      { challenge_token: "chal", code: "111111" },
      { challenge_token: "chal", code: "123456", remember_device: true },
    ]);
  });

  it("switches to a recovery code", async () => {
    const { user, calls } = renderApp(
      loginRoutes(() => json(200, otpRequired("chal")), {
        "POST /api/v1/auth/otp": () => json(200, tokens()),
      }),
      "/sign-in",
    );
    await enterPassword(user);
    await user.click(await screen.findByLabelText("Use a recovery code instead"));
    await user.type(screen.getByRole("textbox", { name: "Recovery code" }), "abcde-fghij");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(bodiesOf(calls, "/api/v1/auth/otp")).toEqual([{ challenge_token: "chal", recovery_code: "abcde-fghij" }]);
  });

  it("explains a wrong code in words, as an alert", async () => {
    const { user } = renderApp(
      loginRoutes(() => json(200, otpRequired("chal")), {
        "POST /api/v1/auth/otp": () => problem(400, "invalid_code"),
      }),
      "/sign-in",
    );
    await enterPassword(user);
    await user.type(await screen.findByLabelText("Six-digit code"), "000000");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code did not work");
  });

  it("goes back to the password step when the challenge expired", async () => {
    const { user } = renderApp(
      loginRoutes(() => json(200, otpRequired("chal")), {
        "POST /api/v1/auth/otp": () => problem(401, "invalid_challenge"),
      }),
      "/sign-in",
    );
    await enterPassword(user);
    await user.type(await screen.findByLabelText("Six-digit code"), "000000");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Please log in again");
    expect(screen.getByRole("heading", { name: "Log in" })).toBeInTheDocument();
  });

  it("goes back to the password step after too many wrong codes, keeping the username", async () => {
    let logins = 0;
    const { user, calls } = renderApp(
      loginRoutes(
        () =>
          ++logins === 1
            ? json(200, otpRequired("chal"))
            : json(200, otpRequired("chal-2")),
        { "POST /api/v1/auth/otp": () => problem(401, "challenge_exhausted") },
      ),
      "/sign-in",
    );
    await enterPassword(user);
    await user.type(await screen.findByLabelText("Six-digit code"), "000000");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Too many wrong codes. Sign in again with your password.",
    );
    expect(screen.getByRole("heading", { name: "Log in" })).toHaveFocus();
    expect(screen.getByLabelText("Username")).toHaveValue("alice");
    expect(screen.getByLabelText("Password")).toHaveValue("");

    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByLabelText("Six-digit code")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/auth/login")).toHaveLength(2);
  });

  it("shows wrong credentials in words", async () => {
    const { user } = renderApp(loginRoutes(() => problem(401, "invalid_credentials")), "/sign-in");
    await enterPassword(user);
    expect(await screen.findByRole("alert")).toHaveTextContent("The username or password is not right");
  });

  it("tells a throttled customer when to try again", async () => {
    const { user } = renderApp(
      loginRoutes(() => problem(429, "too_many_attempts", {}, { "Retry-After": "120" })),
      "/sign-in",
    );
    await enterPassword(user);
    expect(await screen.findByRole("alert")).toHaveTextContent(/Too many attempts. Please wait 2 minutes and try again after \d\d:\d\d/);
  });
});

describe("session", () => {
  it("keeps the customer signed in on reload through the refresh cookie", async () => {
    const { calls } = renderApp(
      {
        "POST /api/v1/auth/refresh": () => json(200, tokens("fresh")),
        "GET /api/v1/account": () => json(200, account()),
        "GET /api/v1/account/events": () => json(200, { events: [] }),
      },
      "/account",
    );
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(calls.filter((c) => c.path === "/api/v1/auth/refresh")).toHaveLength(1);
    expect(calls.find((c) => c.path === "/api/v1/account")?.authorization).toBe("Bearer fresh");
  });

  it("sends a signed-out visitor to sign-in and back where they wanted to go", async () => {
    const { user } = renderApp(loginRoutes(() => json(200, tokens())), "/account?tab=1");
    await screen.findByRole("heading", { name: "Log in" });
    expect(window.location.search).toBe(`?next=${encodeURIComponent("/account?tab=1")}`);
    expect(screen.getByRole("status")).toHaveTextContent("Please log in to continue.");
    await enterPassword(user);
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(window.location.pathname + window.location.search).toBe("/account?tab=1");
  });

  it("refreshes once on a 401 and retries the request", async () => {
    let accountCalls = 0;
    let refreshes = 0;
    const { calls } = renderApp(
      {
        "POST /api/v1/auth/refresh": () => json(200, tokens(`t${++refreshes}`)),
        "GET /api/v1/account": () =>
          ++accountCalls === 1 ? problem(401, "invalid_token") : json(200, account()),
        "GET /api/v1/account/events": () => json(200, { events: [] }),
      },
      "/account",
    );
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(calls.filter((c) => c.path === "/api/v1/account").map((c) => c.authorization)).toEqual([
      "Bearer t1",
      "Bearer t2",
    ]);
  });

  it("returns to sign-in when the session has expired", async () => {
    let refreshes = 0;
    renderApp(
      {
        "POST /api/v1/auth/refresh": () => (++refreshes === 1 ? json(200, tokens()) : problem(401, "invalid_refresh_token")),
        "GET /api/v1/account": () => problem(401, "invalid_token"),
        "GET /api/v1/config": () => json(200, publicSettings({ support_contact: null })),
      },
      "/account",
    );
    await screen.findByRole("heading", { name: "Log in" });
    await waitFor(() => expect(window.location.pathname).toBe("/sign-in"));
    // The session ended under the customer: say why they are asked again.
    expect(screen.getByRole("status")).toHaveTextContent("Please log in to continue.");
  });

  it("greets a first visit to the site's root with plain sign-in, not 'log in to continue'", async () => {
    renderApp(signedOut(), "/");
    await screen.findByRole("heading", { name: "Log in", level: 1 });
    expect(window.location.pathname + window.location.search).toBe("/sign-in");
    expect(screen.getByRole("status")).toBeEmptyDOMElement();
  });

  it("opens Account Settings from the site's root when signed in", async () => {
    renderApp(
      {
        ...signedOut(),
        "POST /api/v1/auth/refresh": () => json(200, tokens()),
        "GET /api/v1/account": () => json(200, account()),
        "GET /api/v1/account/events": () => json(200, { events: [] }),
      },
      "/",
    );
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(window.location.pathname).toBe("/account");
  });

  it("signs out", async () => {
    const { user, calls } = renderApp({
      "POST /api/v1/auth/refresh": () => json(200, tokens()),
      "GET /api/v1/account": () => json(200, account()),
      "GET /api/v1/account/events": () => json(200, { events: [] }),
      "POST /api/v1/auth/logout": () => noContent(204),
      "GET /api/v1/config": () => json(200, publicSettings({ support_contact: null })),
    }, "/account");
    await user.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("You have signed out.");
    const logout = calls.find((c) => c.path === "/api/v1/auth/logout");
    expect(logout?.authorization).toBe("Bearer access-1");
    // Lets the server's CSRF check accept a logout by cookie alone, should the token be gone.
    expect(logout?.headers["x-requested-with"]).toBe("XMLHttpRequest");
  });
});

describe("sign-in, issue 10", () => {
  it("puts focus back in the code field after a wrong code", async () => {
    const { user } = renderApp(
      loginRoutes(() => json(200, otpRequired()), { "POST /api/v1/auth/otp": () => problem(400, "invalid_code") }),
      "/sign-in",
    );
    await enterPassword(user);
    const field = await screen.findByLabelText("Six-digit code");
    await user.type(field, "000000");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByRole("alert");
    expect(screen.getByLabelText("Six-digit code")).toHaveFocus();
    expect(screen.getByLabelText("Six-digit code")).toHaveValue("");
  });

  it("keeps the retry time fixed once the answer arrived", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-12-02T10:00:00"));
    const { user } = renderApp(loginRoutes(() => problem(429, "too_many_attempts", { retry_after: 120 })), "/sign-in");
    await enterPassword(user);
    const alert = await screen.findByRole("alert");
    const shown = alert.textContent;
    expect(shown).toMatch(/Please wait 2 minutes and try again after 10:02/);
    // Later renders (typing) show the same deadline, not one computed from the new "now".
    vi.setSystemTime(new Date("2026-12-02T10:01:30"));
    await user.type(screen.getByLabelText("Password"), "x");
    expect(screen.getByRole("alert").textContent).toBe(shown);
    vi.useRealTimers();
  });

  it("follows only paths of this site after sign-in", () => {
    expect(safeNext("/support?x=1")).toBe("/support?x=1");
    expect(safeNext("//evil.example/x")).toBe("/account");
    expect(safeNext("/\\evil.example")).toBe("/account");
    expect(safeNext("https://evil.example/")).toBe("/account");
    expect(safeNext(null)).toBe("/account");
  });
});

describe("loading the account fails", () => {
  it("says so on a network error, offers a retry, and keeps the customer signed in", async () => {
    let attempts = 0;
    const { user, calls } = renderApp(
      {
        "POST /api/v1/auth/refresh": () => json(200, tokens()),
        "GET /api/v1/account": () => {
          attempts += 1;
          if (attempts === 1) throw new TypeError("Failed to fetch");
          return json(200, account());
        },
        "GET /api/v1/account/events": () => json(200, { events: [] }),
        "GET /api/v1/config": () => json(200, publicSettings({ support_contact: null })),
      },
      "/account",
    );
    expect(await screen.findByRole("heading", { name: "We could not load your account" })).toHaveFocus();
    expect(screen.getByRole("alert")).toHaveTextContent("We could not reach the server");
    expect(window.location.pathname).toBe("/account");
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("heading", { name: "Account Settings", level: 1 })).toBeInTheDocument();
    expect(calls.some((c) => c.path === "/api/v1/auth/logout")).toBe(false);
  });

  it("says so on a 503 from the database", async () => {
    renderApp(
      {
        "POST /api/v1/auth/refresh": () => json(200, tokens()),
        "GET /api/v1/account": () => problem(503, "database_unavailable"),
      },
      "/account",
    );
    expect(await screen.findByRole("alert")).toHaveTextContent("The service is temporarily unavailable");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
    expect(window.location.pathname).toBe("/account");
  });
});
