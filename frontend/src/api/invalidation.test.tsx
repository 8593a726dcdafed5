import { webauthn } from "../test/webauthn";
import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { account, json, noContent, problem, renderApp, signedIn, thisSession, type Call, type Routes } from "../test/fakeServer";
import type { Account, Schemas } from "./types";

// What each write fetches again, pinned through the real app: the reads on screen that are
// requested anew after the write, no more and no fewer. Every read is on the page before the
// write (the lists are loaded), so a read asked for afterwards was invalidated. (The browser's
// passkey dialog is test/webauthn.ts's fake.)

const ACCOUNT_CHANGED = ["/api/v1/account", "/api/v1/account/events", "/api/v1/account/passkeys"];
const PLACES_CHANGED = [...ACCOUNT_CHANGED, "/api/v1/account/api-tokens", "/api/v1/account/devices", "/api/v1/account/sessions"];

const twoFactorOn: Account["two_factor"] = {
  enabled: true,
  enabled_at: "2026-12-01T08:00:00Z",
  recovery_codes_remaining: 10, required: false, setup_required: false,
  methods: ["totp", "recovery_code"],
};
const phone = thisSession({ id: "5b0e1d2c-0000-4000-8000-000000000002", current: false, user_agent: "Phone browser" });
const oldPhone: Schemas["DeviceSummary"] = {
  id: "d0000000-0000-4000-8000-000000000002",
  current: false,
  created_at: "2026-11-01T08:00:00Z",
  last_used_at: "2026-12-02T06:00:00Z",
  trusted_until: null,
  user_agent: "Phone browser",
};
const token: Schemas["TokenSummary"] = {
  id: "70000000-0000-4000-8000-000000000001",
  name: "Reseller portal",
  scopes: ["account:read"],
  prefix: "cat_AbCd",
  created_at: "2026-12-01T08:00:00Z",
  last_used_at: null,
  expires_at: "2027-03-01T08:00:00Z",
};
const laptop: Schemas["PasskeySummary"] = {
  id: "90000000-0000-4000-8000-000000000001",
  name: "Work laptop",
  created_at: "2026-12-01T08:00:00Z",
  last_used_at: null,
};

/** The distinct reads (GET paths without their query) asked for since `from`. */
function readsSince(calls: Call[], from: number): string[] {
  const paths = calls.slice(from).filter((c) => c.method === "GET").map((c) => c.path.split("?")[0] ?? "");
  return [...new Set(paths)].sort();
}

/** The account page with every list loaded. */
async function accountPage(routes: Routes, twoFactor = twoFactorOn) {
  const app = renderApp({ ...signedIn(account({ two_factor: twoFactor })), ...routes }, "/account");
  await waitFor(() =>
    expect(readsSince(app.calls, 0)).toEqual(expect.arrayContaining(PLACES_CHANGED)),
  );
  return app;
}

async function section(name: string) {
  const heading = await screen.findByRole("heading", { name, level: 2 });
  return within(heading.closest("section") as HTMLElement);
}

async function expectRefetched(calls: Call[], from: number, reads: string[]) {
  await waitFor(() => expect(readsSince(calls, from)).toEqual([...reads].sort()));
  // And nothing more a moment later.
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(readsSince(calls, from)).toEqual([...reads].sort());
}

describe("what a write fetches again", () => {
  it("ending another session: the places, the API tokens, the account, its events and passkeys", async () => {
    const { user, calls } = await accountPage({
      "GET /api/v1/account/sessions": () => json(200, { sessions: [thisSession(), phone] }),
      "DELETE /api/v1/account/sessions/{id}": () => noContent(204),
    });
    const places = await section("Where you're signed in");
    const from = calls.length;
    await user.click(await places.findByRole("button", { name: /^End session Phone browser/ }));
    await places.findByText("The session has ended: that browser has to log in again.");
    await expectRefetched(calls, from, PLACES_CHANGED);
  });

  it("ending every other session: the same, also when it fails", async () => {
    const { user, calls } = await accountPage({
      "GET /api/v1/account/sessions": () => json(200, { sessions: [thisSession(), phone] }),
      "POST /api/v1/account/sessions/revoke-others": () => problem(503, "database_unavailable"),
    });
    const places = await section("Where you're signed in");
    const from = calls.length;
    await user.click(await places.findByRole("button", { name: "End all other sessions" }));
    await places.findByRole("alert");
    await expectRefetched(calls, from, PLACES_CHANGED);
  });

  it("forgetting a device: the same", async () => {
    const { user, calls } = await accountPage({
      "GET /api/v1/account/devices": () => json(200, { devices: [oldPhone] }),
      "DELETE /api/v1/account/devices/{id}": () => noContent(204),
    });
    const places = await section("Where you're signed in");
    const from = calls.length;
    await user.click(await places.findByRole("button", { name: /^Forget device Phone browser/ }));
    await places.findByText(/The device is forgotten/);
    await expectRefetched(calls, from, PLACES_CHANGED);
  });

  it("revoking an API token: the tokens, the account, its events and passkeys, also when it fails", async () => {
    const { user, calls } = await accountPage({
      "GET /api/v1/account/api-tokens": () => json(200, { tokens: [token] }),
      "DELETE /api/v1/account/api-tokens/{id}": () => problem(404, "not_found"),
    });
    const tokens = await section("API tokens");
    await user.click(await tokens.findByRole("button", { name: /Reseller portal/ }));
    const from = calls.length;
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    await tokens.findByRole("alert");
    await expectRefetched(calls, from, [...ACCOUNT_CHANGED, "/api/v1/account/api-tokens"]);
  });

  it("removing an app's access: the apps and the account's events, also when it fails", async () => {
    const webmail: Schemas["ConnectedApp"] = {
      client_id: "ca_webmail",
      name: "Webmail",
      scopes: ["openid"],
      granted_at: "2026-12-01T08:00:00Z",
      last_used_at: null,
    };
    const { user, calls } = await accountPage({
      "GET /api/v1/account/apps": () => json(200, [webmail]),
      "DELETE /api/v1/account/apps/{client_id}": () => problem(503, "database_unavailable"),
    });
    const apps = await section("Apps with access");
    await user.click(await apps.findByRole("button", { name: "Remove access for Webmail" }));
    const from = calls.length;
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    await apps.findByRole("alert");
    await expectRefetched(calls, from, ["/api/v1/account/apps", "/api/v1/account/events"]);
  });

  it("creating an API token: the same", async () => {
    const { user, calls } = await accountPage({
      "POST /api/v1/account/api-tokens": () =>
        json(201, { id: token.id, name: token.name, scopes: token.scopes, prefix: token.prefix, expires_at: token.expires_at, token: "cat_secret" }),
    });
    const tokens = await section("API tokens");
    await user.click(tokens.getByRole("button", { name: "Create an API token" }));
    await user.type(tokens.getByLabelText("Name"), "Reseller portal");
    const from = calls.length;
    await user.click(tokens.getByRole("button", { name: "Create token" }));
    await tokens.findByText("cat_secret");
    await expectRefetched(calls, from, [...ACCOUNT_CHANGED, "/api/v1/account/api-tokens"]);
  });

  it("renaming a passkey: the passkeys, the account and its events", async () => {
    const { user, calls } = await accountPage({
      "GET /api/v1/account/passkeys": () => json(200, { passkeys: [laptop] }),
      "PATCH /api/v1/account/passkeys/{id}": () => json(200, { ...laptop, name: "Laptop" }),
    });
    const passkeys = await section("Passkeys and security keys");
    await user.click(await passkeys.findByRole("button", { name: "Rename passkey Work laptop" }));
    const field = passkeys.getByLabelText("New name");
    await user.clear(field);
    await user.type(field, "Laptop");
    const from = calls.length;
    await user.click(passkeys.getByRole("button", { name: "Save name" }));
    await passkeys.findByText('The passkey is now called "Laptop".');
    await expectRefetched(calls, from, ACCOUNT_CHANGED);
  });

  it("removing a passkey: the passkeys, the account, its events, and the sessions it ended", async () => {
    const { user, calls } = await accountPage({
      "GET /api/v1/account/passkeys": () => json(200, { passkeys: [laptop] }),
      "DELETE /api/v1/account/passkeys/{id}": () => noContent(204),
    });
    const passkeys = await section("Passkeys and security keys");
    await user.click(await passkeys.findByRole("button", { name: "Remove passkey Work laptop" }));
    const from = calls.length;
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    await passkeys.findByText('The passkey "Work laptop" has been removed.');
    await expectRefetched(calls, from, [...ACCOUNT_CHANGED, "/api/v1/account/sessions"]);
  });

  it("changing the e-mail address: the account, its events and passkeys", async () => {
    const { user, calls } = await accountPage({ "POST /api/v1/account/email": () => noContent(202) });
    const email = await section("Email address");
    await user.click(email.getByRole("button", { name: "Change email address" }));
    await user.type(email.getByLabelText("New email address"), "new@example.com");
    const from = calls.length;
    await user.click(email.getByRole("button", { name: "Send confirmation link" }));
    await email.findByText(/We sent a confirmation link to new@example.com/);
    await expectRefetched(calls, from, ACCOUNT_CHANGED);
  });

  it("new recovery codes: the account, its events and passkeys", async () => {
    const codes = Array.from({ length: 10 }, (_, i) => `aaaaa-bbbb${i}`);
    const { user, calls } = await accountPage({
      "POST /api/v1/account/two-factor/recovery-codes": () => json(200, { recovery_codes: codes }),
    });
    await user.click(await screen.findByRole("button", { name: "Create new recovery codes" }));
    const from = calls.length;
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    await screen.findByRole("heading", { name: "Your recovery codes" });
    await expectRefetched(calls, from, ACCOUNT_CHANGED);
  });

  it("adding a passkey: the passkeys, the account and its events", async () => {
    const { user, calls } = await accountPage({
      "POST /api/v1/account/passkeys/register/start": () =>
        json(200, { options: { publicKey: { challenge: "Y2hhbGxlbmdl" } } as unknown as Record<string, never> }),
      "POST /api/v1/account/passkeys/register/finish": () =>
        json(201, { id: laptop.id, name: laptop.name, created_at: laptop.created_at, recovery_codes: null }),
    });
    const passkeys = await section("Passkeys and security keys");
    await user.click(passkeys.getByRole("button", { name: "Add a passkey or security key" }));
    await user.type(passkeys.getByLabelText("Name"), "Work laptop");
    const from = calls.length;
    await user.click(passkeys.getByRole("button", { name: "Continue" }));
    await passkeys.findByText(/The passkey "Work laptop" is added./);
    expect(webauthn.startRegistration).toHaveBeenCalledTimes(1);
    await expectRefetched(calls, from, ACCOUNT_CHANGED);
  });

  it("switching two-factor on: the account, its events and passkeys", async () => {
    const codes = Array.from({ length: 10 }, (_, i) => `aaaaa-bbbb${i}`);
    const { user, calls } = await accountPage(
      {
        "POST /api/v1/account/two-factor/enroll": () =>
          json(200, { secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" }),
        "POST /api/v1/account/two-factor/confirm": () => json(200, { enabled: true, recovery_codes: codes }),
      },
      account().two_factor,
    );
    await user.click(await screen.findByLabelText("Set up two-factor authentication when logging in using a username and password"));
    await user.type(await screen.findByLabelText("Six-digit code"), "123456");
    const from = calls.length;
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    await screen.findByRole("heading", { name: "Your recovery codes" });
    await expectRefetched(calls, from, ACCOUNT_CHANGED);
  });

  it("switching two-factor off: the same", async () => {
    const { user, calls } = await accountPage({
      "POST /api/v1/account/two-factor/disable": () => json(200, { enabled: false }),
    });
    await user.click(await screen.findByLabelText("Disable two-factor authentication when logging in with a username and password"));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    const from = calls.length;
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    await screen.findByText(/Two-factor authentication has been disabled/);
    await expectRefetched(calls, from, ACCOUNT_CHANGED);
  });

  it("changing the password: nothing", async () => {
    const { user, calls } = await accountPage({ "POST /api/v1/account/password": () => noContent(204) });
    const password = await section("Change password");
    await user.type(password.getByLabelText("Current password"), "correct horse battery");
    await user.type(password.getByLabelText("New password"), "a brand new password");
    const from = calls.length;
    await user.click(password.getByRole("button", { name: "Change password" }));
    await password.findByText(/Your password has been changed/);
    expect(readsSince(calls, from)).toEqual([]);
  });

  it("the language: the answered account goes into the cache, nothing is fetched", async () => {
    const { user, calls } = await accountPage({
      "PATCH /api/v1/account": () => json(200, account({ two_factor: twoFactorOn, language: "cs" })),
    });
    const from = calls.length;
    await user.selectOptions(screen.getByLabelText("Language"), "cs");
    await screen.findByRole("heading", { name: "Nastavení účtu", level: 1 });
    await waitFor(() => expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(1));
    expect(readsSince(calls, from)).toEqual([]);
  });

  it("verifying the e-mail address: the account, its events and passkeys", async () => {
    const { calls, queryClient } = await accountPage({
      "POST /api/v1/auth/email/verify": () => json(200, { email: "alice@example.com" }),
    });
    // The mailed link opens in this signed-in tab: the account page's lists are no longer shown.
    const from = calls.length;
    window.history.pushState(null, "", "/verify-email?token=bXlzdGVyeQ");
    window.dispatchEvent(new PopStateEvent("popstate"));
    await screen.findByText("Your email address alice@example.com is verified.");
    await expectRefetched(calls, from, ["/api/v1/account"]);
    // The others wait, stale, for the account page to show them again.
    const invalidated = queryClient
      .getQueryCache()
      .findAll({ predicate: (query) => query.state.isInvalidated })
      .map((query) => String(query.queryKey[1]))
      .sort();
    expect(invalidated).toEqual(["/api/v1/account/events", "/api/v1/account/passkeys"]);
  });

  it.each([
    ["resetting a customer's two-factor", "Reset two-factor for carol", "Reset two-factor", "POST /api/v1/support/customers/{id}/two-factor/reset"],
    ["unlocking a customer", "Unlock sign-in for carol", "Unlock sign-in", "POST /api/v1/support/customers/{id}/unlock"],
  ] as const)("%s: every customer search and every customer's events", async (_, open, submit, route) => {
    const carol = { id: "c-1", username: "carol", email: "carol@example.com", two_factor_enabled: true, two_factor_required_by_support: false };
    const agent = account({ username: "sam", role: "support", two_factor: twoFactorOn });
    const { user, calls } = renderApp(
      {
        ...signedIn(agent),
        "GET /api/v1/support/customers": () => json(200, { customers: [carol] }),
        "GET /api/v1/support/customers/{id}/events": () => json(200, { events: [] }),
        "GET /api/v1/support/customers/{id}/apps": () => json(200, []),
        [route]: () => json(200, { enabled: false }),
      },
      "/support",
    );
    await user.type(await screen.findByLabelText("Search customers"), "car");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await user.click(await screen.findByRole("button", { name: "Open carol" }));
    await screen.findByText("No events yet.");
    await user.click(screen.getByRole("button", { name: open }));
    await user.type(screen.getByLabelText("Reason (required)"), "Identity checked");
    await user.click(screen.getByRole("button", { name: submit }));
    const from = calls.length;
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    await screen.findByText(/for carol has been (reset|unlocked)/);
    await expectRefetched(calls, from, ["/api/v1/support/customers", "/api/v1/support/customers/c-1/events"]);
  });
});
