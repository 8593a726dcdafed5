import { assertion, notAllowed, webauthn } from "../test/webauthn";
import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { account, bodiesOf, json, otpRequired, problem, renderApp, signedOut, tokens, type Routes } from "../test/fakeServer";

// Sign-in with a passkey: the browser's dialog is test/webauthn.ts's fake.

const requestOptions = {
  publicKey: { challenge: "Y2hhbGxlbmdl", rpId: "localhost", allowCredentials: [], userVerification: "preferred" },
};
const options = requestOptions as unknown as Record<string, never>;

const routes = (extra: Routes): Routes => ({
  ...signedOut(),
  "GET /api/v1/account": () => json(200, account()),
  "GET /api/v1/account/events": () => json(200, { events: [] }),
  "GET /api/v1/account/passkeys": () => json(200, { passkeys: [] }),
  ...extra,
});

async function enterPassword(user: ReturnType<typeof renderApp>["user"]) {
  await user.type(await screen.findByLabelText("Username"), "alice");
  await user.type(screen.getByLabelText("Password"), "correct horse battery");
  await user.click(screen.getByRole("button", { name: "Log in" }));
}

describe("sign-in with a passkey as the second factor", () => {
  it("answers the code step with the passkey: options for the challenge, the browser's dialog, then /auth/otp", async () => {
    const { user, calls } = renderApp(
      routes({
        "POST /api/v1/auth/login": () => json(200, otpRequired("chal", ["webauthn", "totp", "recovery_code"])),
        "POST /api/v1/auth/webauthn/options": () => json(200, { options }),
        "POST /api/v1/auth/otp": () => json(200, tokens()),
      }),
      "/sign-in",
    );
    await enterPassword(user);
    await screen.findByRole("heading", { name: "Two-factor authentication" });
    // The account has an OTP application too: the code stays on offer.
    expect(screen.getByLabelText("Six-digit code")).toBeInTheDocument();
    await user.click(screen.getByRole("checkbox", { name: "Don't ask for a code on this device for 30 days" }));
    await user.click(screen.getByRole("button", { name: "Use your passkey or security key" }));
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(bodiesOf(calls, "/api/v1/auth/webauthn/options")).toEqual([{ challenge_token: "chal" }]);
    expect(webauthn.startAuthentication).toHaveBeenCalledWith({ optionsJSON: requestOptions.publicKey });
    expect(bodiesOf(calls, "/api/v1/auth/otp")).toEqual([{ challenge_token: "chal", webauthn: assertion, remember_device: true }]);
  });

  it("offers a passkey-only account its passkey and a recovery code, no six-digit code", async () => {
    const { user, calls } = renderApp(
      routes({
        "POST /api/v1/auth/login": () => json(200, otpRequired("chal", ["webauthn", "recovery_code"])),
        "POST /api/v1/auth/otp": () => json(200, tokens()),
      }),
      "/sign-in",
    );
    await enterPassword(user);
    expect(await screen.findByRole("button", { name: "Use your passkey or security key" })).toBeInTheDocument();
    expect(screen.queryByLabelText("Six-digit code")).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Use a recovery code instead")).not.toBeInTheDocument();
    expect(screen.getByText("Or enter one of your recovery codes:")).toBeInTheDocument();
    await user.type(screen.getByRole("textbox", { name: "Recovery code" }), "abcde-fghij");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(bodiesOf(calls, "/api/v1/auth/otp")).toEqual([{ challenge_token: "chal", recovery_code: "abcde-fghij" }]);
  });

  it("shows no passkey button to an account without passkeys", async () => {
    const { user } = renderApp(routes({ "POST /api/v1/auth/login": () => json(200, otpRequired("chal")) }), "/sign-in");
    await enterPassword(user);
    await screen.findByLabelText("Six-digit code");
    expect(screen.queryByRole("button", { name: "Use your passkey or security key" })).not.toBeInTheDocument();
  });

  it("a closed browser dialog is a calm note, not an error, and the step stays for another try", async () => {
    webauthn.startAuthentication.mockRejectedValueOnce(notAllowed());
    const { user, calls } = renderApp(
      routes({
        "POST /api/v1/auth/login": () => json(200, otpRequired("chal", ["webauthn", "recovery_code"])),
        "POST /api/v1/auth/webauthn/options": () => json(200, { options }),
        "POST /api/v1/auth/otp": () => json(200, tokens()),
      }),
      "/sign-in",
    );
    await enterPassword(user);
    await user.click(await screen.findByRole("button", { name: "Use your passkey or security key" }));
    expect(await screen.findByText(/The passkey dialog was closed before it finished/)).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(calls.some((c) => c.path === "/api/v1/auth/otp")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Use your passkey or security key" }));
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
  });

  it("a passkey the server refuses is explained as an alert", async () => {
    const { user } = renderApp(
      routes({
        "POST /api/v1/auth/login": () => json(200, otpRequired("chal", ["webauthn", "recovery_code"])),
        "POST /api/v1/auth/webauthn/options": () => json(200, { options }),
        "POST /api/v1/auth/otp": () => problem(400, "passkey_refused"),
      }),
      "/sign-in",
    );
    await enterPassword(user);
    await user.click(await screen.findByRole("button", { name: "Use your passkey or security key" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The passkey or security key could not be verified.");
  });

  it("where WebAuthn is unavailable, says so and leaves the recovery code", async () => {
    webauthn.browserSupportsWebAuthn.mockReturnValue(false);
    const { user } = renderApp(
      routes({ "POST /api/v1/auth/login": () => json(200, otpRequired("chal", ["webauthn", "recovery_code"])) }),
      "/sign-in",
    );
    await enterPassword(user);
    expect(await screen.findByText(/This browser cannot use passkeys or security keys. Log in another way below/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Use your passkey or security key" })).not.toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Recovery code" })).toBeInTheDocument();
  });
});

describe("sign-in with a passkey alone", () => {
  it("signs in without username or password", async () => {
    const { user, calls } = renderApp(
      routes({
        "POST /api/v1/auth/passkey/options": () => json(200, { options, state_token: "state-1", expires_in: 300 }),
        "POST /api/v1/auth/passkey": () => json(200, tokens("pk")),
      }),
      "/sign-in",
    );
    await user.click(await screen.findByRole("button", { name: "Sign in with a passkey" }));
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    expect(webauthn.startAuthentication).toHaveBeenCalledWith({ optionsJSON: requestOptions.publicKey });
    expect(bodiesOf(calls, "/api/v1/auth/passkey/options")).toEqual([undefined]);
    expect(calls.filter((c) => c.path === "/api/v1/auth/passkey").map((c) => c.body)).toEqual([
      { state_token: "state-1", credential: assertion },
    ]);
    expect(calls.find((c) => c.path === "/api/v1/account")?.authorization).toBe("Bearer pk");
  });

  it("a closed dialog leaves the first screen with a calm note", async () => {
    webauthn.startAuthentication.mockRejectedValueOnce(notAllowed());
    const { user, calls } = renderApp(
      routes({ "POST /api/v1/auth/passkey/options": () => json(200, { options, state_token: "state-1", expires_in: 300 }) }),
      "/sign-in",
    );
    await user.click(await screen.findByRole("button", { name: "Sign in with a passkey" }));
    expect(await screen.findByText(/The passkey dialog was closed before it finished/)).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Log in", level: 1 })).toBeInTheDocument();
    expect(calls.some((c) => c.path === "/api/v1/auth/passkey")).toBe(false);
  });

  it("an unknown passkey is explained as an alert", async () => {
    const { user } = renderApp(
      routes({
        "POST /api/v1/auth/passkey/options": () => json(200, { options, state_token: "state-1", expires_in: 300 }),
        "POST /api/v1/auth/passkey": () => problem(400, "passkey_refused"),
      }),
      "/sign-in",
    );
    await user.click(await screen.findByRole("button", { name: "Sign in with a passkey" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The passkey or security key could not be verified.");
  });

  it("is not offered where WebAuthn is unavailable", async () => {
    webauthn.browserSupportsWebAuthn.mockReturnValue(false);
    renderApp(routes({}), "/sign-in");
    await screen.findByLabelText("Username");
    expect(screen.queryByRole("button", { name: "Sign in with a passkey" })).not.toBeInTheDocument();
  });
});
