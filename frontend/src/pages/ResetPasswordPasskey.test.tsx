import { assertion, notAllowed, webauthn } from "../test/webauthn";
import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { bodiesOf, json, noContent, problem, renderApp, signedOut, type Routes } from "../test/fakeServer";

// The reset link's passkey: the browser's dialog is test/webauthn.ts's fake; any request
// without a route fails the test.

const TOKEN = "bXlzdGVyaW91cy1saW5rLXRva2Vu";
const NEW_PASSWORD = "a brand new password";
const OPTIONS_PATH = "/api/v1/auth/password-reset/webauthn/options";
const CONFIRM_PATH = "/api/v1/auth/password-reset/confirm";
const PASSKEY_BUTTON = { name: "Use your passkey or security key" };

const requestOptions = {
  publicKey: { challenge: "Y2hhbGxlbmdl", rpId: "localhost", allowCredentials: [], userVerification: "required" },
};
const options = requestOptions as unknown as Record<string, never>;

type ConfirmBody = { code?: string; recovery_code?: string; webauthn?: unknown };

/** A server whose account has two-factor on: the confirmation without a factor is refused first. */
function routes(answer: (body: ConfirmBody) => ReturnType<Required<Routes>["POST /api/v1/auth/password-reset/confirm"]>, extra: Routes = {}): Routes {
  return {
    ...signedOut(),
    "POST /api/v1/auth/password-reset/webauthn/options": () => json(200, { options }),
    "POST /api/v1/auth/password-reset/confirm": async (request) => {
      const body = (await request.json()) as ConfirmBody;
      if (!body.code && !body.recovery_code && !body.webauthn) return problem(403, "second_factor_required");
      return answer(body);
    },
    ...extra,
  };
}

async function enterPasswords(user: ReturnType<typeof renderApp>["user"]) {
  await user.type(await screen.findByLabelText("New password"), NEW_PASSWORD);
  await user.type(screen.getByLabelText("Repeat new password"), NEW_PASSWORD);
  await user.click(screen.getByRole("button", { name: "Set new password" }));
  await screen.findByRole("heading", { name: "Two-factor authentication", level: 2 });
}

describe("reset password with a passkey", () => {
  it("offers the passkey first, the codes beside it, and proves the reset with the passkey", async () => {
    const { user, calls } = renderApp(
      routes((body) => (body.webauthn ? noContent(204) : problem(400, "invalid_code"))),
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    expect(screen.getByText(/confirm it's you with your passkey or security key, or enter a six-digit code/)).toBeInTheDocument();
    expect(screen.getByRole("button", PASSKEY_BUTTON)).toHaveClass("primary");
    // The codes stay on offer.
    expect(screen.getByLabelText("Six-digit code")).toBeInTheDocument();
    expect(screen.getByLabelText("Use a recovery code instead")).toBeInTheDocument();
    await user.click(screen.getByRole("button", PASSKEY_BUTTON));
    expect(await screen.findByRole("heading", { name: "Your password was reset", level: 1 })).toBeInTheDocument();
    // The options asked when the step opened serve the first press: one request, one dialog.
    expect(bodiesOf(calls, OPTIONS_PATH)).toEqual([{ token: TOKEN }]);
    expect(webauthn.startAuthentication).toHaveBeenCalledWith({ optionsJSON: requestOptions.publicKey });
    expect(bodiesOf(calls, CONFIRM_PATH)).toEqual([
      { token: TOKEN, new_password: NEW_PASSWORD },
      { token: TOKEN, new_password: NEW_PASSWORD, webauthn: assertion },
    ]);
    // A link from a mail proves itself: no bearer token goes along.
    expect(calls.filter((c) => c.path === OPTIONS_PATH).every((c) => c.authorization === null)).toBe(true);
  });

  it("explains a refused passkey, asks fresh options for the next try, and a recovery code still works", async () => {
    const { user, calls } = renderApp(
      routes((body) => (body.recovery_code ? noContent(204) : problem(400, "invalid_code"))),
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    await user.click(screen.getByRole("button", PASSKEY_BUTTON));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Your passkey or security key was not accepted. Please try again, or confirm it's you another way.",
    );
    await user.click(screen.getByRole("button", PASSKEY_BUTTON));
    await screen.findByRole("alert");
    expect(bodiesOf(calls, OPTIONS_PATH)).toEqual([{ token: TOKEN }, { token: TOKEN }]);
    await user.click(screen.getByLabelText("Use a recovery code instead"));
    await user.type(screen.getByLabelText("Recovery code"), "abcde-fghij");
    await user.click(screen.getByRole("button", { name: "Set new password" }));
    expect(await screen.findByRole("heading", { name: "Your password was reset", level: 1 })).toBeInTheDocument();
    expect(bodiesOf(calls, CONFIRM_PATH)).toEqual([
      { token: TOKEN, new_password: NEW_PASSWORD },
      { token: TOKEN, new_password: NEW_PASSWORD, webauthn: assertion },
      { token: TOKEN, new_password: NEW_PASSWORD, webauthn: assertion },
      { token: TOKEN, new_password: NEW_PASSWORD, recovery_code: "abcde-fghij" },
    ]);
  });

  it("a closed browser dialog is a calm note, nothing is sent, and the passkey can be tried again", async () => {
    webauthn.startAuthentication.mockRejectedValueOnce(notAllowed());
    const { user, calls } = renderApp(
      routes(() => noContent(204)),
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    await user.click(screen.getByRole("button", PASSKEY_BUTTON));
    expect(await screen.findByText(/The passkey dialog was closed before it finished/)).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(bodiesOf(calls, CONFIRM_PATH)).toHaveLength(1);
    await user.click(screen.getByRole("button", PASSKEY_BUTTON));
    expect(await screen.findByRole("heading", { name: "Your password was reset", level: 1 })).toBeInTheDocument();
    expect(bodiesOf(calls, CONFIRM_PATH)).toHaveLength(2);
  });

  it("an account without passkeys gets the code entry only", async () => {
    const { user, calls } = renderApp(
      routes((body) => (body.code ? noContent(204) : problem(400, "invalid_code")), {
        "POST /api/v1/auth/password-reset/webauthn/options": () => problem(409, "no_passkeys"),
      }),
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    expect(screen.queryByRole("button", PASSKEY_BUTTON)).not.toBeInTheDocument();
    expect(screen.queryByText(/passkey/i)).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Set new password" })).toHaveClass("primary");
    await user.type(screen.getByLabelText("Six-digit code"), "123456");
    await user.click(screen.getByRole("button", { name: "Set new password" }));
    expect(await screen.findByRole("heading", { name: "Your password was reset", level: 1 })).toBeInTheDocument();
    expect(bodiesOf(calls, OPTIONS_PATH)).toHaveLength(1);
    expect(webauthn.startAuthentication).not.toHaveBeenCalled();
  });

  it("where WebAuthn is unavailable, says so and leaves the codes", async () => {
    webauthn.browserSupportsWebAuthn.mockReturnValue(false);
    const { user } = renderApp(
      routes(() => noContent(204)),
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    expect(screen.getByText(/This browser cannot use passkeys or security keys. Please enter a code below/)).toBeInTheDocument();
    expect(screen.queryByRole("button", PASSKEY_BUTTON)).not.toBeInTheDocument();
    expect(screen.getByLabelText("Six-digit code")).toBeInTheDocument();
  });

  it("checks the two passwords agree before the passkey's dialog opens", async () => {
    const { user, calls } = renderApp(
      routes(() => noContent(204)),
      `/reset-password?token=${TOKEN}`,
    );
    await enterPasswords(user);
    await user.type(screen.getByLabelText("Repeat new password"), "x");
    await user.click(screen.getByRole("button", PASSKEY_BUTTON));
    expect(await screen.findByRole("alert")).toHaveTextContent("The two passwords are not the same.");
    expect(webauthn.startAuthentication).not.toHaveBeenCalled();
    expect(bodiesOf(calls, CONFIRM_PATH)).toHaveLength(1);
  });

  it("speaks Czech, with the glossary's záložní kód", async () => {
    const { user } = renderApp(routes(() => noContent(204)), `/reset-password?token=${TOKEN}`, "cs");
    await user.type(await screen.findByLabelText("Nové heslo"), NEW_PASSWORD);
    await user.type(screen.getByLabelText("Nové heslo znovu"), NEW_PASSWORD);
    await user.click(screen.getByRole("button", { name: "Nastavit nové heslo" }));
    expect(await screen.findByText(/přístupovým nebo bezpečnostním klíčem, nebo zadejte šestimístný kód z aplikace OTP či jeden ze záložních kódů/)).toBeInTheDocument();
    expect(screen.getByText("Nebo zadejte šestimístný kód z aplikace OTP či jeden ze záložních kódů:")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Použít přístupový nebo bezpečnostní klíč" }));
    expect(await screen.findByRole("heading", { name: "Heslo bylo obnoveno", level: 1 })).toBeInTheDocument();
  });
});
