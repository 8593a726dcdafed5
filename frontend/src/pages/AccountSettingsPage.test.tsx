import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { contactLink } from "../components/SupportContact";
import { recoveryCodesFileName } from "../components/RecoveryCodes";
import type { Account } from "../api/types";
import { account, bodiesOf, json, noContent, problem, renderApp, signedIn } from "../test/fakeServer";

const SET_UP = "Set up two-factor authentication when logging in using a username and password";
const DISABLE = "Disable two-factor authentication when logging in with a username and password";
const CODES = Array.from({ length: 10 }, (_, i) => `code${i}-abcde`);
const on = (): Account =>
  account({ two_factor: { enabled: true, enabled_at: "2026-12-01T10:00:00Z", recovery_codes_remaining: 10, required: false, setup_required: false, methods: ["totp", "recovery_code"] } });

/** Routes whose account switches state once `flip` is called, like the real server. */
function stateful(first: Account, second: Account) {
  let current = first;
  return {
    flip: () => {
      current = second;
    },
    routes: { ...signedIn(), "GET /api/v1/account": () => json(200, current) },
  };
}

describe("Account Settings", () => {
  it("shows the account details and that two-factor is off", async () => {
    renderApp(signedIn(), "/account");
    expect(await screen.findByRole("heading", { name: "Account Settings", level: 1 })).toHaveFocus();
    expect(screen.getByText("alice@example.com")).toBeInTheDocument();
    expect(screen.getByText(/Two-factor authentication is off/)).toBeInTheDocument();
    expect(screen.getByLabelText(SET_UP)).not.toBeChecked();
  });

  it("sets up two-factor: QR code, key, six-digit code, Save Settings, recovery codes", async () => {
    const state = stateful(account(), on());
    const { user, calls } = renderApp(
      {
        ...state.routes,
        "POST /api/v1/account/two-factor/enroll": () =>
          json(200, { secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" }),
        "POST /api/v1/account/two-factor/confirm": () => {
          state.flip();
          return json(200, { enabled: true, recovery_codes: CODES });
        },
      },
      "/account",
    );
    await user.click(await screen.findByLabelText(SET_UP));
    expect(await screen.findByRole("heading", { name: "Set up your OTP application" })).toHaveFocus();
    const qr = screen.getByRole("img", { name: /QR code/ });
    expect(qr).toHaveAttribute("src", `data:image/svg+xml;utf8,${encodeURIComponent("<svg/>")}`);
    expect(screen.getByText("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Six-digit code"), "123456");
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    expect(await screen.findByRole("heading", { name: "Your recovery codes" })).toHaveFocus();
    expect(within(screen.getByRole("list", { name: "Recovery codes" })).getAllByRole("listitem")).toHaveLength(10);
    expect(bodiesOf(calls, "/api/v1/account/two-factor/confirm")).toEqual([{ code: "123456" }]);

    const done = screen.getByRole("button", { name: "Done" });
    expect(done).toBeDisabled();
    await user.click(screen.getByLabelText("I have saved my recovery codes"));
    await user.click(done);
    expect(await screen.findByText(/Two-factor authentication is on since/)).toBeInTheDocument();
    expect(screen.getByText(/From now on, logging in also asks for the six-digit code/)).toBeInTheDocument();
  });

  it("explains a wrong code on Save Settings", async () => {
    const { user } = renderApp(
      {
        ...signedIn(),
        "POST /api/v1/account/two-factor/enroll": () =>
          json(200, { secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" }),
        "POST /api/v1/account/two-factor/confirm": () => problem(400, "invalid_code"),
      },
      "/account",
    );
    await user.click(await screen.findByLabelText(SET_UP));
    await user.type(await screen.findByLabelText("Six-digit code"), "999999");
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code did not work");
  });

  it("asks for the password before enrolling when the sign-in is old", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "POST /api/v1/account/two-factor/enroll": async (request) => {
          const body = (await request.json()) as { password?: string };
          return body.password
            ? json(200, { secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" })
            : problem(403, "reauthentication_required");
        },
      },
      "/account",
    );
    await user.click(await screen.findByLabelText(SET_UP));
    expect(await screen.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    // Two-factor is off: the password is the only proof, so there is nothing to choose.
    expect(screen.queryByRole("group", { name: "Confirm with" })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Six-digit code")).not.toBeInTheDocument();
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Confirm" }));
    expect(await screen.findByRole("img", { name: /QR code/ })).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/two-factor/enroll")).toEqual([{}, { password: "correct horse battery" }]);
  });

  it("with passkeys only, offers an OTP application beside them; confirming it shows no new recovery codes", async () => {
    const passkeyOnly = account({
      two_factor: { enabled: true, enabled_at: "2026-12-01T10:00:00Z", recovery_codes_remaining: 10, required: false, setup_required: false, methods: ["webauthn", "recovery_code"] },
    });
    const both = account({ two_factor: { ...passkeyOnly.two_factor, methods: ["webauthn", "totp", "recovery_code"] } });
    const state = stateful(passkeyOnly, both);
    const { user, calls } = renderApp(
      {
        ...state.routes,
        "POST /api/v1/account/two-factor/enroll": () =>
          json(200, { secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" }),
        "POST /api/v1/account/two-factor/confirm": () => {
          state.flip();
          return json(200, { enabled: true });
        },
      },
      "/account",
    );
    expect(await screen.findByText(/Two-factor authentication is on since/)).toBeInTheDocument();
    expect(screen.queryByLabelText(SET_UP)).not.toBeInTheDocument();
    await user.click(screen.getByLabelText("Also set up an OTP application for six-digit codes"));
    await user.type(await screen.findByLabelText("Six-digit code"), "123456");
    // The disable form has a Save Settings button of its own: this is the set-up form's.
    const setUp = screen.getByRole("form", { name: "Set up your OTP application" });
    await user.click(within(setUp).getByRole("button", { name: "Save Settings" }));
    expect(await screen.findByText(/Your OTP application is set up/)).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Your recovery codes" })).not.toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/two-factor/confirm")).toEqual([{ code: "123456" }]);
    // Now it has TOTP: the offer is gone.
    await waitFor(() => expect(screen.queryByLabelText("Also set up an OTP application for six-digit codes")).not.toBeInTheDocument());
  });

  it("warns before disabling that the passkeys go too", async () => {
    const withPasskey = account({
      two_factor: { enabled: true, enabled_at: "2026-12-01T10:00:00Z", recovery_codes_remaining: 10, required: false, setup_required: false, methods: ["webauthn", "totp", "recovery_code"] },
    });
    const { user } = renderApp(signedIn(withPasskey), "/account");
    await user.click(await screen.findByLabelText(DISABLE));
    const dialog = screen.getByRole("alertdialog", { name: "Disable two-factor authentication?" });
    expect(dialog).toHaveTextContent("Your passkeys and security keys are removed too.");
  });

  it("does not mention passkeys when disabling an account without them", async () => {
    const { user } = renderApp(signedIn(on()), "/account");
    await user.click(await screen.findByLabelText(DISABLE));
    expect(screen.getByRole("alertdialog")).not.toHaveTextContent("passkeys");
  });

  it("disables two-factor in the article's order: tick, prompt at once, OK, Save Settings, confirmation", async () => {
    const state = stateful(on(), account());
    const { user, calls } = renderApp(
      {
        ...state.routes,
        "POST /api/v1/account/two-factor/disable": () => {
          state.flip();
          return json(200, { enabled: false });
        },
      },
      "/account",
    );
    await user.click(await screen.findByLabelText(DISABLE));
    // The prompt comes as soon as the box is ticked, before Save Settings.
    const dialog = screen.getByRole("alertdialog", { name: "Disable two-factor authentication?" });
    expect(within(dialog).getByRole("button", { name: "OK" })).toHaveFocus();
    await user.click(within(dialog).getByRole("button", { name: "OK" }));
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(screen.getByLabelText(DISABLE)).toBeChecked();
    expect(calls.some((c) => c.path.includes("disable"))).toBe(false);

    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    expect(await screen.findByText(/Two-factor authentication has been disabled/)).toBeInTheDocument();
    expect(screen.getByText(/Two-factor authentication is off/)).toBeInTheDocument();
    // The form is gone: focus lands on the section it changed.
    expect(screen.getByRole("heading", { name: "Two-factor authentication", level: 2 })).toHaveFocus();
    expect(bodiesOf(calls, "/api/v1/account/two-factor/disable")).toEqual([{}]);
  });

  it("unticks the box when the customer cancels the prompt (Escape or Cancel)", async () => {
    const { user, calls } = renderApp({ ...signedIn(on()) }, "/account");
    await user.click(await screen.findByLabelText(DISABLE));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(screen.getByLabelText(DISABLE)).not.toBeChecked();
    expect(screen.getByLabelText(DISABLE)).toHaveFocus();

    await user.click(screen.getByLabelText(DISABLE));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Cancel" }));
    expect(screen.getByLabelText(DISABLE)).not.toBeChecked();
    expect(calls.some((c) => c.path.includes("disable"))).toBe(false);
  });

  it("says what to do when Save Settings is pressed with the box unticked", async () => {
    const { user, calls } = renderApp({ ...signedIn(on()) }, "/account");
    await user.click(await screen.findByRole("button", { name: "Save Settings" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Nothing to save. To disable two-factor authentication, tick the box above, confirm with OK, then press Save Settings.",
    );
    expect(calls.some((c) => c.path.includes("disable"))).toBe(false);
  });

  it("asks for the six-digit code when disabling after the privileged window, then retries", async () => {
    const state = stateful(on(), account());
    const { user, calls } = renderApp(
      {
        ...state.routes,
        "POST /api/v1/account/two-factor/disable": async (request) => {
          const body = (await request.json()) as { code?: string };
          if (!body.code) return problem(403, "reauthentication_required");
          if (body.code !== "654321") return problem(400, "invalid_code");
          state.flip();
          return json(200, { enabled: false });
        },
      },
      "/account",
    );
    await user.click(await screen.findByLabelText(DISABLE));
    await user.click(screen.getByRole("button", { name: "OK" }));
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    expect(await screen.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    // With two-factor on the server refuses a password alone: only codes are offered.
    const choices = within(screen.getByRole("group", { name: "Confirm with" })).getAllByRole("radio");
    expect(choices).toHaveLength(2);
    expect(screen.getByRole("radio", { name: "Six-digit code" })).toBeChecked();
    expect(screen.getByRole("radio", { name: "Recovery code" })).not.toBeChecked();
    expect(screen.queryByLabelText("Password")).not.toBeInTheDocument();
    const field = screen.getByRole("textbox", { name: "Six-digit code" });
    await user.type(field, "111111");
    await user.click(screen.getByRole("button", { name: "Confirm" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code did not work");
    await user.clear(field);
    await user.type(field, "654321");
    await user.click(screen.getByRole("button", { name: "Confirm" }));
    expect(await screen.findByText(/Two-factor authentication has been disabled/)).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/two-factor/disable")).toEqual([{}, { code: "111111" }, { code: "654321" }]);
  });

  it("regenerates recovery codes after confirmation", async () => {
    const { user } = renderApp(
      {
        ...signedIn(on()),
        "POST /api/v1/account/two-factor/recovery-codes": () => json(200, { recovery_codes: CODES }),
      },
      "/account",
    );
    await user.click(await screen.findByRole("button", { name: "Create new recovery codes" }));
    await user.click(screen.getByRole("button", { name: "OK" }));
    expect(await screen.findByRole("heading", { name: "Your recovery codes" })).toBeInTheDocument();
    expect(screen.getByText("code0-abcde")).toBeInTheDocument();
  });

  it("regenerates recovery codes with a recovery code as proof when the sign-in is old", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(on()),
        "POST /api/v1/account/two-factor/recovery-codes": async (request) => {
          const body = (await request.json()) as { recovery_code?: string };
          return body.recovery_code ? json(200, { recovery_codes: CODES }) : problem(403, "reauthentication_required");
        },
      },
      "/account",
    );
    await user.click(await screen.findByRole("button", { name: "Create new recovery codes" }));
    await user.click(screen.getByRole("button", { name: "OK" }));
    await screen.findByRole("heading", { name: "Confirm it's you" });
    expect(screen.queryByLabelText("Password")).not.toBeInTheDocument();
    await user.click(screen.getByRole("radio", { name: "Recovery code" }));
    await user.type(screen.getByRole("textbox", { name: "Recovery code" }), " abcde-fghij ");
    await user.click(screen.getByRole("button", { name: "Confirm" }));
    expect(await screen.findByRole("heading", { name: "Your recovery codes" })).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/two-factor/recovery-codes")).toEqual([{}, { recovery_code: "abcde-fghij" }]);
  });

  it("changes the password and explains a wrong current one", async () => {
    let attempts = 0;
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "POST /api/v1/account/password": () =>
          ++attempts === 1 ? problem(400, "invalid_password") : noContent(204),
      },
      "/account",
    );
    await user.type(await screen.findByLabelText("Current password"), "wrong");
    await user.type(screen.getByLabelText("New password"), "a much better password");
    await user.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That password is not right");
    await user.clear(screen.getByLabelText("Current password"));
    await user.type(screen.getByLabelText("Current password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByText(/Your password has been changed/)).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/password")[1]).toEqual({
      current_password: "correct horse battery",
      new_password: "a much better password",
    });
  });

  it("lists recent security events in words", async () => {
    renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account/events": () =>
          json(200, {
            events: [
              { id: 2, kind: "two_factor_enabled", at: "2026-12-01T10:00:00Z", count: 1, last_at: "2026-12-01T10:00:00Z", ip: "203.0.113.7", user_agent: "Firefox", detail: null },
              { id: 1, kind: "login_failed", at: "2026-12-01T09:00:00Z", count: 1, last_at: "2026-12-01T09:00:00Z", ip: null, user_agent: null, detail: null },
              { id: 0, kind: "account_unlocked_by_support", at: "2026-12-01T08:00:00Z", count: 1, last_at: "2026-12-01T08:00:00Z", ip: null, user_agent: null, detail: null },
            ],
          }),
      },
      "/account",
    );
    const events = await screen.findByRole("region", { name: "Recent security events" });
    expect(await within(events).findByText("Two-factor authentication set up")).toBeInTheDocument();
    expect(within(events).getByText("Failed login")).toBeInTheDocument();
    expect(within(events).getByText("Sign-in unlocked by customer support")).toBeInTheDocument();
    expect(within(events).getByText(/203\.0\.113\.7/)).toBeInTheDocument();
  });
});

describe("Account Settings, issue 10", () => {
  const enrollment = (secret: string) => ({
    secret,
    otpauth_uri: `otpauth://totp/custadmin:alice?secret=${secret}&issuer=custadmin`,
    qr_svg: "<svg/>",
  });

  it("says two-factor is on while the recovery codes are still on screen, and focuses the section after Done", async () => {
    const state = stateful(account(), on());
    const { user } = renderApp(
      {
        ...state.routes,
        "POST /api/v1/account/two-factor/enroll": () => json(200, enrollment("JBSWY3DPEHPK3PXP")),
        "POST /api/v1/account/two-factor/confirm": () => {
          state.flip();
          return json(200, { enabled: true, recovery_codes: CODES });
        },
      },
      "/account",
    );
    await user.click(await screen.findByLabelText(SET_UP));
    await user.type(await screen.findByLabelText("Six-digit code"), "123456");
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    expect(await screen.findByRole("heading", { name: "Your recovery codes" })).toBeInTheDocument();
    expect(await screen.findByText(/Two-factor authentication is on since/)).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Your recovery codes" })).toBeInTheDocument();

    await user.click(screen.getByLabelText("I have saved my recovery codes"));
    await user.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.getByRole("heading", { name: "Two-factor authentication", level: 2 })).toHaveFocus();
  });

  it("offers an otpauth:// link and a copy button for the key on a phone", async () => {
    const { user } = renderApp(
      { ...signedIn(), "POST /api/v1/account/two-factor/enroll": () => json(200, enrollment("JBSWY3DPEHPK3PXP")) },
      "/account",
    );
    // After userEvent's setup, which installs a clipboard of its own.
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await user.click(await screen.findByLabelText(SET_UP));
    expect(await screen.findByRole("link", { name: "Open in OTP application" })).toHaveAttribute(
      "href",
      "otpauth://totp/custadmin:alice?secret=JBSWY3DPEHPK3PXP&issuer=custadmin",
    );
    await user.click(screen.getByRole("button", { name: "Copy key" }));
    expect(writeText).toHaveBeenCalledWith("JBSWY3DPEHPK3PXP");
    expect(await screen.findByText("The key is copied to your clipboard.")).toBeInTheDocument();
  });

  it("starts one enrolment per tick and never shows an older secret after a quick untick and retick", async () => {
    let enrolments = 0;
    const answers: ((secret: string) => void)[] = [];
    const { user } = renderApp(
      {
        ...signedIn(),
        "POST /api/v1/account/two-factor/enroll": () => {
          enrolments += 1;
          return new Promise((resolve) => answers.push((secret) => resolve(json(200, enrollment(secret)))));
        },
      },
      "/account",
    );
    const box = await screen.findByLabelText(SET_UP);
    await user.click(box);
    // While the first secret is on its way the box holds still: a second click sends nothing.
    expect(box).toBeDisabled();
    await user.click(box);
    expect(enrolments).toBe(1);
    answers[0]?.("AAAAAAAAAAAAAAAA");
    expect(await screen.findByText("AAAA AAAA AAAA AAAA")).toBeInTheDocument();

    await user.click(box); // untick: the secret goes
    expect(screen.queryByText("AAAA AAAA AAAA AAAA")).not.toBeInTheDocument();
    await user.click(box); // tick again: a new enrolment
    expect(enrolments).toBe(2);
    answers[1]?.("BBBBBBBBBBBBBBBB");
    expect(await screen.findByText("BBBB BBBB BBBB BBBB")).toBeInTheDocument();
    expect(screen.queryByText("AAAA AAAA AAAA AAAA")).not.toBeInTheDocument();
  });

  it("warns when 3 or fewer recovery codes are left, with the right plural", async () => {
    renderApp(
      signedIn(account({ two_factor: { enabled: true, enabled_at: "2026-12-01T10:00:00Z", recovery_codes_remaining: 1, required: false, setup_required: false, methods: ["totp", "recovery_code"] } })),
      "/account",
    );
    expect(await screen.findByText(/You have 1 unused recovery code\./)).toBeInTheDocument();
    expect(screen.getByText(/Only 1 recovery code is left/)).toBeInTheDocument();
  });

  it("does not warn with 4 codes left", async () => {
    renderApp(
      signedIn(account({ two_factor: { enabled: true, enabled_at: "2026-12-01T10:00:00Z", recovery_codes_remaining: 4, required: false, setup_required: false, methods: ["totp", "recovery_code"] } })),
      "/account",
    );
    expect(await screen.findByText(/You have 4 unused recovery codes\./)).toBeInTheDocument();
    expect(screen.queryByText(/recovery codes are left/)).not.toBeInTheDocument();
  });

  it("names the site, the username and the date in the downloaded file", () => {
    expect(recoveryCodesFileName("shop.example.com", "alice", new Date(2026, 11, 2, 23, 59))).toBe(
      "shop.example.com-recovery-codes-alice-2026-12-02.txt",
    );
    expect(recoveryCodesFileName("localhost", "a/b c", new Date(2026, 0, 5))).toBe(
      "localhost-recovery-codes-a_b_c-2026-01-05.txt",
    );
  });

  it("shows the lost-access note with the configured support contact", async () => {
    renderApp(signedIn(on()), "/account");
    expect(await screen.findByText(/If you have lost access to your OTP application/)).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "help@example.com" })).toHaveAttribute("href", "mailto:help@example.com");
  });
});

describe("support contact links", () => {
  it("links e-mail addresses and web addresses, and refuses other schemes", () => {
    expect(contactLink("help@example.com")).toEqual({ href: "mailto:help@example.com", text: "help@example.com" });
    expect(contactLink("mailto:help@example.com")).toEqual({ href: "mailto:help@example.com", text: "help@example.com" });
    expect(contactLink("https://example.com/help")).toEqual({ href: "https://example.com/help", text: "https://example.com/help" });
    expect(contactLink("javascript:alert(1)")).toBeNull();
    expect(contactLink(null)).toBeNull();
  });
});
