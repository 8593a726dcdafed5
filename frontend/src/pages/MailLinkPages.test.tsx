import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { account, bodiesOf, json, noContent, problem, renderApp, signedIn, signedOut } from "../test/fakeServer";

const TOKEN = "bXlzdGVyaW91cy1saW5rLXRva2Vu";

describe("forgot password", () => {
  it("is linked from sign-in and always gives the same answer", async () => {
    const { user, calls } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/password-reset": () => noContent(202) },
      "/sign-in",
    );
    await user.click(await screen.findByRole("link", { name: "Forgot your password?" }));
    expect(await screen.findByRole("heading", { name: "Forgot your password?", level: 1 })).toHaveFocus();
    await user.type(screen.getByLabelText("Username or email"), " alice@example.com ");
    await user.click(screen.getByRole("button", { name: "Send reset link" }));
    expect(await screen.findByRole("status")).toHaveTextContent(
      "If the account exists and has a verified address, we sent a link. It works for 30 minutes.",
    );
    expect(bodiesOf(calls, "/api/v1/auth/password-reset")).toEqual([{ login: "alice@example.com" }]);
    // A link from a mail proves itself: no bearer token goes along.
    expect(calls.find((c) => c.path === "/api/v1/auth/password-reset")?.authorization).toBeNull();
  });

  it("explains a throttled request", async () => {
    const { user } = renderApp(
      {
        ...signedOut(),
        "POST /api/v1/auth/password-reset": () => problem(429, "too_many_attempts", { retry_after: 30 }),
      },
      "/forgot-password",
    );
    await user.type(await screen.findByLabelText("Username or email"), "alice");
    await user.click(screen.getByRole("button", { name: "Send reset link" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts. Please wait 30 seconds");
  });
});

describe("reset password from the mailed link", () => {
  async function enterPasswords(user: ReturnType<typeof renderApp>["user"], first = "a brand new password", second = first) {
    await user.type(await screen.findByLabelText("New password"), first);
    await user.type(screen.getByLabelText("Repeat new password"), second);
    await user.click(screen.getByRole("button", { name: "Set new password" }));
  }

  it("sets the new password and says every session was signed out", async () => {
    const { user, calls } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/password-reset/confirm": () => noContent(204) },
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    expect(await screen.findByRole("heading", { name: "Your password was reset", level: 1 })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Your password was reset; every session was signed out.");
    expect(bodiesOf(calls, "/api/v1/auth/password-reset/confirm")).toEqual([{ token: TOKEN, new_password: "a brand new password" }]);
    await user.click(screen.getByRole("link", { name: "Log in" }));
    expect(await screen.findByRole("heading", { name: "Log in", level: 1 })).toBeInTheDocument();
  });

  it("refuses two different passwords without asking the server", async () => {
    const { user, calls } = renderApp(signedOut(), `/reset-password?token=${TOKEN}`);
    await enterPasswords(user, "a brand new password", "a brand new passwort");
    expect(await screen.findByRole("alert")).toHaveTextContent("The two passwords are not the same.");
    expect(screen.getByLabelText("Repeat new password")).toHaveAttribute("aria-invalid", "true");
    expect(calls.filter((c) => c.path.includes("password-reset"))).toHaveLength(0);
  });

  it("asks a two-factor account for its code, explains a wrong one, then resubmits with a recovery code", async () => {
    const { user, calls } = renderApp(
      {
        ...signedOut(),
        // An account with TOTP only: no passkey to offer.
        "POST /api/v1/auth/password-reset/webauthn/options": () => problem(409, "no_passkeys"),
        "POST /api/v1/auth/password-reset/confirm": async (request) => {
          const body = (await request.json()) as { code?: string; recovery_code?: string };
          if (body.recovery_code) return noContent(204);
          if (body.code) return problem(400, "invalid_code");
          return problem(403, "second_factor_required");
        },
      },
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    expect(await screen.findByRole("heading", { name: "Two-factor authentication", level: 2 })).toBeInTheDocument();
    expect(screen.getByText(/Your account uses two-factor authentication/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Use your passkey or security key" })).not.toBeInTheDocument();
    await user.type(screen.getByLabelText("Six-digit code"), "123 456");
    await user.click(screen.getByRole("button", { name: "Set new password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code did not work");
    await user.click(screen.getByLabelText("Use a recovery code instead"));
    await user.type(screen.getByLabelText("Recovery code"), "abcde-fghij");
    await user.click(screen.getByRole("button", { name: "Set new password" }));
    expect(await screen.findByRole("heading", { name: "Your password was reset", level: 1 })).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/auth/password-reset/confirm")).toEqual([
      { token: TOKEN, new_password: "a brand new password" },
      { token: TOKEN, new_password: "a brand new password", code: "123456" },
      { token: TOKEN, new_password: "a brand new password", recovery_code: "abcde-fghij" },
    ]);
  });

  it("says an unknown, used or expired link cannot be used and offers a new one", async () => {
    const { user } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/password-reset/confirm": () => problem(400, "invalid_token") },
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    expect(await screen.findByRole("alert")).toHaveTextContent("This link is unknown, already used or expired");
    await user.click(screen.getByRole("link", { name: "Ask for a new reset link" }));
    expect(await screen.findByRole("heading", { name: "Forgot your password?", level: 1 })).toBeInTheDocument();
  });

  it("says so when the link lost its token", async () => {
    renderApp(signedOut(), "/reset-password");
    expect(await screen.findByRole("alert")).toHaveTextContent("This link is incomplete.");
  });

  it("signs this tab out too when it was signed in", async () => {
    const { user } = renderApp(
      { ...signedIn(), "POST /api/v1/auth/password-reset/confirm": () => noContent(204) },
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    await screen.findByRole("heading", { name: "Your password was reset", level: 1 });
    await user.click(screen.getByRole("link", { name: "Log in" }));
    expect(await screen.findByRole("heading", { name: "Log in", level: 1 })).toBeInTheDocument();
  });
});

describe("verify e-mail from the mailed link", () => {
  it("confirms the address once and links to Account Settings when signed in", async () => {
    const { user, calls } = renderApp(
      { ...signedIn(), "POST /api/v1/auth/email/verify": () => json(200, { email: "alice@example.com" }) },
      `/verify-email?token=${TOKEN}`,
    );
    expect(await screen.findByText("Your email address alice@example.com is verified.")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/auth/email/verify")).toEqual([{ token: TOKEN }]);
    await user.click(await screen.findByRole("link", { name: "Go to Account Settings" }));
    expect(await screen.findByRole("heading", { name: "Account Settings", level: 1 })).toBeInTheDocument();
    expect(screen.getByText("Verified")).toBeInTheDocument();
    expect(calls.filter((c) => c.path === "/api/v1/auth/email/verify")).toHaveLength(1);
  });

  it("reads the account again when the link is confirmed while its first read is under way", async () => {
    // The first GET /account leaves before the link is confirmed and is answered after it: the
    // write must not join that stale read but fetch the account anew.
    let verified = false;
    let accountReads = 0;
    let firstReadStarted!: () => void;
    const firstReadUnderWay = new Promise<void>((resolve) => (firstReadStarted = resolve));
    let answerFirstRead!: () => void;
    const firstReadAnswered = new Promise<void>((resolve) => (answerFirstRead = resolve));
    const { user } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account": async () => {
          accountReads += 1;
          const answer = account({ email_verified: verified });
          if (accountReads === 1) {
            firstReadStarted();
            await firstReadAnswered;
          }
          return json(200, answer);
        },
        "POST /api/v1/auth/email/verify": async () => {
          await firstReadUnderWay;
          verified = true;
          setTimeout(answerFirstRead, 50);
          return json(200, { email: "alice@example.com" });
        },
      },
      `/verify-email?token=${TOKEN}`,
    );
    expect(await screen.findByText("Your email address alice@example.com is verified.")).toBeInTheDocument();
    await waitFor(() => expect(accountReads).toBe(2));
    await user.click(await screen.findByRole("link", { name: "Go to Account Settings" }));
    expect(await screen.findByRole("heading", { name: "Account Settings", level: 1 })).toBeInTheDocument();
    expect(await screen.findByText("Verified")).toBeInTheDocument();
  });

  it("links to sign-in when this browser is signed out", async () => {
    renderApp(
      { ...signedOut(), "POST /api/v1/auth/email/verify": () => json(200, { email: "alice@example.com" }) },
      `/verify-email?token=${TOKEN}`,
    );
    expect(await screen.findByRole("link", { name: "Log in" })).toHaveAttribute("href", "/sign-in");
  });

  it("explains an unknown, used or expired link and how to get a new one", async () => {
    const { calls } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/email/verify": () => problem(400, "invalid_token") },
      `/verify-email?token=${TOKEN}`,
    );
    expect(await screen.findByRole("alert")).toHaveTextContent(
      /This link is unknown, already used or expired.*press "Resend verification link" in Account Settings/,
    );
    await waitFor(() => expect(calls.filter((c) => c.path === "/api/v1/auth/email/verify")).toHaveLength(1));
  });

  it("speaks Czech", async () => {
    renderApp(
      { ...signedOut(), "POST /api/v1/auth/email/verify": () => problem(400, "invalid_token") },
      `/verify-email?token=${TOKEN}`,
      "cs",
    );
    expect(await screen.findByRole("alert")).toHaveTextContent(/Tento odkaz neznáme/);
  });
});
