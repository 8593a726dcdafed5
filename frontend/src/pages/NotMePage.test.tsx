import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../api/types";
import { bodiesOf, json, problem, renderApp, signedIn, signedOut } from "../test/fakeServer";

const TOKEN = "bm90LW1lLWxpbmstdG9rZW4tdmFsdWU";

function report(overrides: Partial<Schemas["NotMeResponse"]> = {}): Schemas["NotMeResponse"] {
  return {
    sessions_ended: 3,
    api_tokens_revoked: 1,
    devices_forgotten: 2,
    email_change_cancelled: true,
    password_sign_in_blocked: true,
    can_reset_by_email: true,
    passkeys: 0,
    ...overrides,
  };
}

describe("this wasn't me, from a notice's link", () => {
  it("does nothing on opening; the button reports, then says what ended and how to reset", async () => {
    const { user, calls } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/not-me": () => json(200, report()) },
      `/not-me?token=${TOKEN}`,
    );
    expect(await screen.findByRole("heading", { name: "This wasn't me", level: 1 })).toHaveFocus();
    expect(screen.getByText(/signing in with the password is blocked until you reset it/)).toBeInTheDocument();
    // Mail scanners open links: nothing is sent until the holder presses the button.
    expect(calls.filter((c) => c.path === "/api/v1/auth/not-me")).toHaveLength(0);
    await user.click(screen.getByRole("button", { name: "It wasn't me: secure my account" }));
    expect(await screen.findByRole("heading", { name: "Your account is secured", level: 1 })).toHaveFocus();
    expect(bodiesOf(calls, "/api/v1/auth/not-me")).toEqual([{ token: TOKEN }]);
    // A link from a mail proves itself: no bearer token goes along.
    expect(calls.find((c) => c.path === "/api/v1/auth/not-me")?.authorization).toBeNull();
    expect(screen.getByRole("status")).toHaveTextContent("Done: whoever it was is signed out.");
    const ended = screen.getByRole("list", { name: "What ended" });
    expect(ended).toHaveTextContent("3 sessions ended");
    expect(ended).toHaveTextContent("1 API token was revoked");
    expect(ended).toHaveTextContent("2 devices were forgotten");
    expect(ended).toHaveTextContent("The email address change waiting for confirmation was cancelled");
    expect(ended).toHaveTextContent("Signing in with your password is blocked");
    expect(screen.queryByText(/passkeys?, which still/)).not.toBeInTheDocument();
    await user.click(screen.getByRole("link", { name: "Reset your password" }));
    expect(await screen.findByRole("heading", { name: "Forgot your password?", level: 1 })).toBeInTheDocument();
  });

  it("signs this browser out too when it was signed in", async () => {
    const { user, calls } = renderApp(
      { ...signedIn(), "POST /api/v1/auth/not-me": () => json(200, report()) },
      `/not-me?token=${TOKEN}`,
    );
    await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/account")).toBe(true));
    await user.click(await screen.findByRole("button", { name: "It wasn't me: secure my account" }));
    await screen.findByRole("heading", { name: "Your account is secured", level: 1 });
    window.history.pushState(null, "", "/account");
    window.dispatchEvent(new PopStateEvent("popstate"));
    expect(await screen.findByRole("heading", { name: "Log in", level: 1 })).toBeInTheDocument();
  });

  it("points to customer support without a verified address, and to the passkeys left", async () => {
    const { user } = renderApp(
      {
        ...signedOut(),
        "POST /api/v1/auth/not-me": () => json(200, report({ can_reset_by_email: false, passkeys: 2, email_change_cancelled: false })),
      },
      `/not-me?token=${TOKEN}`,
    );
    await user.click(await screen.findByRole("button", { name: "It wasn't me: secure my account" }));
    await screen.findByRole("heading", { name: "Your account is secured", level: 1 });
    expect(screen.getByText(/no verified email address to send a reset link to/)).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "help@example.com" })).toHaveAttribute("href", "mailto:help@example.com");
    expect(screen.queryByRole("link", { name: "Reset your password" })).not.toBeInTheDocument();
    expect(screen.getByText(/Your account has 2 passkeys, which still sign in/)).toBeInTheDocument();
    expect(screen.getByRole("list", { name: "What ended" })).not.toHaveTextContent("email address change");
  });

  it("says a used, voided or expired link cannot be used and offers the reset", async () => {
    const { user } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/not-me": () => problem(400, "invalid_token") },
      `/not-me?token=${TOKEN}`,
    );
    await user.click(await screen.findByRole("button", { name: "It wasn't me: secure my account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/This link is unknown, already used or expired.*work once, for 7 days/);
    expect(screen.queryByRole("button", { name: "It wasn't me: secure my account" })).not.toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Reset your password" })).toHaveAttribute("href", "/forgot-password");
  });

  it("keeps the button for another try when the server could not answer", async () => {
    const { user, calls } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/not-me": () => problem(503, "database_unavailable", { retry_after: 5 }) },
      `/not-me?token=${TOKEN}`,
    );
    const button = await screen.findByRole("button", { name: "It wasn't me: secure my account" });
    await user.click(button);
    expect(await screen.findByRole("alert")).toHaveTextContent("The service is temporarily unavailable");
    await user.click(button);
    await waitFor(() => expect(calls.filter((c) => c.path === "/api/v1/auth/not-me")).toHaveLength(2));
  });

  it("says so when the link lost its token", async () => {
    const { calls } = renderApp(signedOut(), "/not-me");
    expect(await screen.findByRole("alert")).toHaveTextContent("This link is incomplete.");
    expect(calls.filter((c) => c.path === "/api/v1/auth/not-me")).toHaveLength(0);
  });

  it("speaks Czech", async () => {
    const { user } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/not-me": () => json(200, report({ sessions_ended: 2, api_tokens_revoked: 5 })) },
      `/not-me?token=${TOKEN}`,
      "cs",
    );
    await user.click(await screen.findByRole("button", { name: "Nebyl(a) jsem to já: zabezpečit účet" }));
    expect(await screen.findByRole("heading", { name: "Váš účet je zabezpečený", level: 1 })).toBeInTheDocument();
    const ended = screen.getByRole("list", { name: "Co skončilo" });
    expect(ended).toHaveTextContent("Skončily 2 relace");
    expect(ended).toHaveTextContent("Bylo zrušeno 5 API tokenů");
    expect(screen.getByRole("link", { name: "Obnovit heslo" })).toHaveAttribute("href", "/forgot-password");
  });
});

describe("sign-in while the password is blocked", () => {
  it("explains the block and links to the reset", async () => {
    const { user } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/login": () => problem(403, "password_sign_in_blocked") },
      "/sign-in",
    );
    await user.type(await screen.findByLabelText("Username"), "alice");
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/Signing in with the password is blocked.*This wasn't me/);
    await user.click(screen.getByRole("link", { name: "Reset your password" }));
    expect(await screen.findByRole("heading", { name: "Forgot your password?", level: 1 })).toBeInTheDocument();
  });
});
