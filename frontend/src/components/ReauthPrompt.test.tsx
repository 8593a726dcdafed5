import { assertion, notAllowed, webauthn } from "../test/webauthn";
import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Account, Schemas } from "../api/types";
import { account, bodiesOf, json, noContent, problem, renderApp, signedIn, type Routes } from "../test/fakeServer";

// A passkey as the proof of a privileged action (the browser's dialog: test/webauthn.ts).

type Passkey = Schemas["PasskeySummary"];

const laptop: Passkey = {
  id: "90000000-0000-4000-8000-000000000001",
  name: "Work laptop",
  created_at: "2026-12-01T08:00:00Z",
  last_used_at: "2026-12-05T18:30:00Z",
};

const passkeyOnly: Account["two_factor"] = {
  enabled: true,
  enabled_at: "2026-12-01T08:00:00Z",
  recovery_codes_remaining: 10, required: false, setup_required: false,
  methods: ["webauthn", "recovery_code"],
};
const totpAndPasskey: Account["two_factor"] = { ...passkeyOnly, methods: ["webauthn", "totp", "recovery_code"] };

/** What `POST /account/webauthn/options` answers: request options under `publicKey`. */
const requestOptions = (challenge = "cmVhdXRo") => ({
  options: {
    publicKey: {
      challenge,
      rpId: "localhost",
      allowCredentials: [{ type: "public-key", id: "Y3JlZA" }],
      userVerification: "preferred",
    },
  } as unknown as Record<string, never>,
});

const USE_PASSKEY = "Confirm with your passkey or security key";

async function passkeysSection() {
  const heading = await screen.findByRole("heading", { name: "Passkeys and security keys", level: 2 });
  return within(heading.closest("section") as HTMLElement);
}

/**
 * A passkey-only account whose sign-in is old: removing its passkey needs a proof. The options
 * route hands out a new challenge each time; `accept` decides about the DELETE's proof.
 */
function oldSignIn(accept: (proof: Record<string, unknown>) => boolean, twoFactor = passkeyOnly, extra: Routes = {}) {
  let list = [laptop];
  let current = account({ two_factor: twoFactor });
  let challenges = 0;
  const routes: Routes = {
    ...signedIn(current),
    "GET /api/v1/account": () => json(200, current),
    "GET /api/v1/account/passkeys": () => json(200, { passkeys: list }),
    "POST /api/v1/account/webauthn/options": () => json(200, requestOptions(`Y2hhbGxlbmdl${++challenges}`)),
    "DELETE /api/v1/account/passkeys/{id}": async (request) => {
      const text = await request.text();
      if (!text) return problem(403, "reauthentication_required");
      if (!accept(JSON.parse(text) as Record<string, unknown>)) return problem(400, "invalid_code");
      list = [];
      current = account();
      return noContent(204);
    },
    ...extra,
  };
  return routes;
}

async function askToRemove(user: ReturnType<typeof renderApp>["user"]) {
  const section = await passkeysSection();
  await user.click(await section.findByRole("button", { name: "Remove passkey Work laptop" }));
  await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
  expect(await section.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
  return section;
}

describe("a passkey proves a privileged action", () => {
  it("offers the passkey first; its answer to this session's options goes in the retried request as webauthn", async () => {
    const { user, calls } = renderApp(oldSignIn((proof) => proof.webauthn !== undefined), "/account");
    const section = await askToRemove(user);
    expect(section.getByText(/with your passkey or security key, or with one of your recovery codes/)).toBeInTheDocument();
    // The passkey comes first; the recovery code stays as the other way.
    const passkeyButton = section.getByRole("button", { name: USE_PASSKEY });
    const recoveryField = section.getByLabelText("Recovery code");
    expect(passkeyButton.compareDocumentPosition(recoveryField) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(section.getByText("Or confirm it's you another way:")).toBeInTheDocument();
    expect(section.queryByLabelText("Six-digit code")).not.toBeInTheDocument();

    await user.click(passkeyButton);
    expect(await section.findByText('The passkey "Work laptop" has been removed.')).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/webauthn/options")).toEqual([undefined]);
    expect(calls.find((c) => c.path === "/api/v1/account/webauthn/options")?.authorization).toBe("Bearer access-1");
    expect(webauthn.startAuthentication).toHaveBeenCalledWith({ optionsJSON: requestOptions("Y2hhbGxlbmdl1").options.publicKey });
    const deletes = calls.filter((c) => c.method === "DELETE").map((c) => c.body);
    expect(deletes).toEqual([undefined, { webauthn: assertion }]);
    expect(section.queryByRole("heading", { name: "Confirm it's you" })).not.toBeInTheDocument();
  });

  it("says in words that a refused passkey was not accepted, and a second try asks for new options", async () => {
    let tries = 0;
    const { user, calls } = renderApp(oldSignIn(() => ++tries > 1), "/account");
    const section = await askToRemove(user);
    await user.click(section.getByRole("button", { name: USE_PASSKEY }));
    expect(await section.findByRole("alert")).toHaveTextContent(
      "Your passkey or security key was not accepted. Please try again, or confirm it's you another way.",
    );
    // Not the six-digit code's words: this account has no OTP application.
    expect(section.queryByText(/Check your OTP application/)).not.toBeInTheDocument();
    expect(section.getByRole("heading", { name: "Confirm it's you" })).toBeInTheDocument();

    await user.click(section.getByRole("button", { name: USE_PASSKEY }));
    expect(await section.findByText('The passkey "Work laptop" has been removed.')).toBeInTheDocument();
    // Each answer is to its own options: an answer is used once.
    expect(calls.filter((c) => c.path === "/api/v1/account/webauthn/options")).toHaveLength(2);
    expect(webauthn.startAuthentication.mock.calls.map(([arg]) => (arg.optionsJSON as { challenge: string }).challenge)).toEqual([
      "Y2hhbGxlbmdl1",
      "Y2hhbGxlbmdl2",
    ]);
  });

  it("a closed browser dialog is a calm note, sends nothing, and the recovery code still proves it", async () => {
    webauthn.startAuthentication.mockRejectedValueOnce(notAllowed());
    const { user, calls } = renderApp(oldSignIn((proof) => proof.recovery_code === "abcde-fghij"), "/account");
    const section = await askToRemove(user);
    await user.click(section.getByRole("button", { name: USE_PASSKEY }));
    expect(await section.findByText(/The passkey dialog was closed before it finished/)).toBeInTheDocument();
    expect(section.queryByRole("alert")).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method === "DELETE")).toHaveLength(1);
    expect(section.getByRole("button", { name: USE_PASSKEY })).toBeEnabled();

    await user.type(section.getByLabelText("Recovery code"), " abcde-fghij ");
    await user.click(section.getByRole("button", { name: "Confirm" }));
    expect(await section.findByText('The passkey "Work laptop" has been removed.')).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.body)).toEqual([undefined, { recovery_code: "abcde-fghij" }]);
  });

  it("explains an account whose passkeys went meanwhile (409 no_passkeys) and opens no dialog", async () => {
    const { user } = renderApp(
      oldSignIn(() => true, passkeyOnly, { "POST /api/v1/account/webauthn/options": () => problem(409, "no_passkeys") }),
      "/account",
    );
    const section = await askToRemove(user);
    await user.click(section.getByRole("button", { name: USE_PASSKEY }));
    expect(await section.findByRole("alert")).toHaveTextContent(
      "This account has no passkey any more. Please confirm it's you another way.",
    );
    expect(webauthn.startAuthentication).not.toHaveBeenCalled();
  });

  it("with an OTP application too, offers the passkey and both codes", async () => {
    const { user } = renderApp(oldSignIn(() => true, totpAndPasskey), "/account");
    const section = await askToRemove(user);
    expect(
      section.getByText(/with your passkey or security key, a six-digit code from your OTP application or one of your recovery codes/),
    ).toBeInTheDocument();
    expect(section.getByRole("button", { name: USE_PASSKEY })).toBeInTheDocument();
    expect(section.getByRole("radio", { name: "Six-digit code" })).toBeChecked();
    expect(section.getByRole("radio", { name: "Recovery code" })).not.toBeChecked();
  });

  it("in a browser without passkeys, says so and keeps the recovery code", async () => {
    webauthn.browserSupportsWebAuthn.mockReturnValue(false);
    const { user } = renderApp(oldSignIn(() => true), "/account");
    const section = await askToRemove(user);
    expect(section.queryByRole("button", { name: USE_PASSKEY })).not.toBeInTheDocument();
    expect(section.getByText(/This browser cannot use passkeys or security keys. Please confirm it's you another way below./)).toBeInTheDocument();
    expect(section.getByLabelText("Recovery code")).toBeInTheDocument();
  });

  it("offers no passkey with two-factor off: the password proves it", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(account()),
        "POST /api/v1/account/passkeys/register/start": async (request) => {
          const body = (await request.json()) as { password?: string };
          if (!body.password) return problem(403, "reauthentication_required");
          return problem(409, "too_many_passkeys");
        },
      },
      "/account",
    );
    const section = await passkeysSection();
    await user.click(await section.findByRole("button", { name: "Add a passkey or security key" }));
    await user.type(section.getByLabelText("Name"), "Phone");
    await user.click(section.getByRole("button", { name: "Continue" }));
    expect(await section.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    expect(section.queryByRole("button", { name: USE_PASSKEY })).not.toBeInTheDocument();
    expect(section.queryByText("Or confirm it's you another way:")).not.toBeInTheDocument();
    await user.type(section.getByLabelText("Password"), "correct horse battery");
    await user.click(section.getByRole("button", { name: "Confirm" }));
    expect(await section.findByRole("alert")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/passkeys/register/start")).toEqual([
      { name: "Phone" },
      { name: "Phone", password: "correct horse battery" },
    ]);
    expect(calls.some((c) => c.path === "/api/v1/account/webauthn/options")).toBe(false);
  });

  it("adds TOTP to a passkey-only account with the passkey as the enrolment's proof", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(account({ two_factor: passkeyOnly })),
        "POST /api/v1/account/webauthn/options": () => json(200, requestOptions()),
        "POST /api/v1/account/two-factor/enroll": async (request) => {
          const body = (await request.json()) as { webauthn?: unknown };
          if (!body.webauthn) return problem(403, "reauthentication_required");
          return json(200, { secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" });
        },
      },
      "/account",
    );
    await user.click(await screen.findByLabelText("Also set up an OTP application for six-digit codes"));
    expect(await screen.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    await user.click(screen.getByRole("button", { name: USE_PASSKEY }));
    expect(await screen.findByRole("heading", { name: "Set up your OTP application" })).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/two-factor/enroll")).toEqual([{}, { webauthn: assertion }]);
  });

  it("in Czech", async () => {
    webauthn.startAuthentication.mockRejectedValueOnce(notAllowed());
    const { user } = renderApp(oldSignIn(() => false), "/account", "cs");
    const heading = await screen.findByRole("heading", { name: "Přístupové a bezpečnostní klíče", level: 2 });
    const section = within(heading.closest("section") as HTMLElement);
    await user.click(await section.findByRole("button", { name: "Odebrat klíč Work laptop" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    await section.findByRole("heading", { name: "Potvrďte, že jste to vy" });
    const button = section.getByRole("button", { name: "Potvrdit přístupovým nebo bezpečnostním klíčem" });
    await user.click(button);
    expect(await section.findByText(/Okno pro přístupový klíč se zavřelo/)).toBeInTheDocument();
    await user.click(button);
    expect(await section.findByRole("alert")).toHaveTextContent("Přístupový nebo bezpečnostní klíč nebyl přijat.");
    await waitFor(() => expect(section.queryByText(/Okno pro přístupový klíč se zavřelo/)).not.toBeInTheDocument());
  });
});
