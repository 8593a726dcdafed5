import { webauthn } from "../test/webauthn";
import type { AuthenticationResponseJSON } from "@simplewebauthn/browser";
import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Account, EventKind, Schemas } from "../api/types";
import { account, bodiesOf, json, noContent, problem, renderApp, signedIn, type Routes } from "../test/fakeServer";

const twoFactorOn = { enabled: true, enabled_at: "2026-12-01T10:00:00Z", recovery_codes_remaining: 10, required: false, setup_required: false, methods: ["totp", "recovery_code"] } satisfies Account["two_factor"];
const support = account({ username: "sam", role: "support", two_factor: twoFactorOn });
const newAgent = account({ username: "sam", role: "support" });
const carol = { id: "c-1", username: "carol", email: "carol@example.com", two_factor_enabled: true, two_factor_required_by_support: false };
const carlos = { id: "c-2", username: "carlos", email: null, two_factor_enabled: false, two_factor_required_by_support: false };

const carolsApp: Schemas["ConnectedApp"] = {
  client_id: "ca_webmail",
  name: "Webmail",
  scopes: ["openid", "email"],
  granted_at: "2026-12-01T10:00:00Z",
  last_used_at: null,
};

const event = (id: number, kind: EventKind, extra = {}) => ({
  id,
  kind,
  at: "2026-12-01T10:00:00Z",
  count: 1,
  last_at: "2026-12-01T10:00:00Z",
  ip: null,
  user_agent: null,
  detail: null,
  ...extra,
});

/** The desk for an agent with two-factor on, with carol findable and her events listed. */
function desk(extra: Routes = {}, agent: Account = support): Routes {
  return {
    ...signedIn(agent),
    "GET /api/v1/support/customers": () => json(200, { customers: [carol, carlos] }),
    // carol (c-1) has events; anyone else has none yet.
    "GET /api/v1/support/customers/{id}/events": (request) =>
      new URL(request.url).pathname.includes("/c-1/")
        ? json(200, { events: [event(2, "login_failed", { ip: "203.0.113.7" }), event(1, "login_succeeded")] })
        : json(200, { events: [] }),
    "GET /api/v1/support/customers/{id}/apps": (request) =>
      new URL(request.url).pathname.includes("/c-1/") ? json(200, [carolsApp]) : json(200, []),
    ...extra,
  };
}

async function openCarol(user: ReturnType<typeof renderApp>["user"]) {
  await user.type(await screen.findByLabelText("Search customers"), "car");
  await user.click(screen.getByRole("button", { name: "Search" }));
  await user.click(await screen.findByRole("button", { name: "Open carol" }));
  expect(await screen.findByRole("heading", { name: "Customer carol" })).toHaveFocus();
}

async function giveReason(user: ReturnType<typeof renderApp>["user"], reason = "Lost phone, identity checked") {
  const field = screen.getByLabelText("Reason (required)");
  expect(field).toBeRequired();
  await user.type(field, reason);
}

describe("support desk", () => {
  it("is only offered to support staff", async () => {
    renderApp(signedIn(), "/support");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Support desk" })).not.toBeInTheDocument();
  });

  it("leads an agent without two-factor to switch it on before the desk opens", async () => {
    const { user, calls } = renderApp(desk({}, newAgent), "/support");
    expect(await screen.findByRole("heading", { name: "Support desk" })).toHaveFocus();
    expect(screen.getByRole("heading", { name: "Switch on two-factor authentication first" })).toBeInTheDocument();
    expect(screen.queryByLabelText("Search customers")).not.toBeInTheDocument();
    await user.click(screen.getByRole("link", { name: "Go to Account Settings to switch on two-factor authentication" }));
    expect(await screen.findByRole("heading", { name: "Account Settings", level: 1 })).toBeInTheDocument();
    expect(calls.some((c) => c.path.startsWith("/api/v1/support"))).toBe(false);
  });

  it("shows the same guidance when the server answers two_factor_required", async () => {
    let current: Account = support;
    const { user } = renderApp(
      desk({
        "GET /api/v1/account": () => json(200, current),
        "GET /api/v1/support/customers": () => {
          current = newAgent; // e.g. two-factor was switched off in another tab
          return problem(403, "two_factor_required");
        },
      }),
      "/support",
    );
    await user.type(await screen.findByLabelText("Search customers"), "car");
    await user.click(screen.getByRole("button", { name: "Search" }));
    expect(await screen.findByRole("heading", { name: "Switch on two-factor authentication first" })).toBeInTheDocument();
    expect(screen.queryByLabelText("Search customers")).not.toBeInTheDocument();
  });

  it("searches customers and shows who has two-factor on", async () => {
    const { user, calls } = renderApp(desk(), "/support");
    expect(await screen.findByRole("heading", { name: "Support desk" })).toHaveFocus();
    await user.type(screen.getByLabelText("Search customers"), "car");
    await user.click(screen.getByRole("button", { name: "Search" }));
    const results = await screen.findByRole("region", { name: "Customers (2)" });
    expect(within(results).getByText("Two-factor: on")).toBeInTheDocument();
    expect(within(results).getByText("Two-factor: off")).toBeInTheDocument();
    expect(within(results).getAllByRole("button").map((b) => b.textContent)).toEqual(["Open carol", "Open carlos"]);
    expect(calls.find((c) => c.path.startsWith("/api/v1/support/customers"))?.path).toBe(
      "/api/v1/support/customers?query=car",
    );
  });

  it("shows the customer's recent security events to check who they are", async () => {
    const { user, calls } = renderApp(desk(), "/support");
    await openCarol(user);
    const events = screen.getByRole("region", { name: "Recent security events" });
    expect(await within(events).findByText("Failed login")).toBeInTheDocument();
    expect(within(events).getByText("Logged in")).toBeInTheDocument();
    expect(within(events).getByText(/203\.0\.113\.7/)).toBeInTheDocument();
    expect(calls.find((c) => c.path.startsWith("/api/v1/support/customers/c-1/events"))?.path).toBe(
      "/api/v1/support/customers/c-1/events?limit=20",
    );
  });

  it("shows the apps that may see the customer's account, read only", async () => {
    const { user, calls } = renderApp(desk(), "/support");
    await openCarol(user);
    const apps = screen.getByRole("region", { name: "Apps with access" });
    const app = (await within(apps).findByText("Webmail")).closest("li") as HTMLElement;
    expect(within(apps).getByText("See your email address and whether it is confirmed")).toBeInTheDocument();
    expect(app).toHaveTextContent("not used yet");
    expect(within(apps).queryByRole("button")).not.toBeInTheDocument();
    expect(calls.filter((c) => c.path.endsWith("/apps")).map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /api/v1/support/customers/c-1/apps",
    ]);

    // Another customer without apps.
    await user.click(screen.getByRole("button", { name: "Close" }));
    await user.click(screen.getByRole("button", { name: "Open carlos" }));
    expect(await within(screen.getByRole("region", { name: "Apps with access" })).findByText("No app has access to this account.")).toBeInTheDocument();
  });

  it("offers no reset for a customer whose two-factor is off, but offers the unlock", async () => {
    const { user } = renderApp(
      desk(),
      "/support",
    );
    await user.type(await screen.findByLabelText("Search customers"), "car");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await user.click(await screen.findByRole("button", { name: "Open carlos" }));
    expect(await screen.findByText("No events yet.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Reset two-factor for carlos" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Unlock sign-in for carlos" })).toBeInTheDocument();
  });

  it("resets two-factor with a required reason after confirmation", async () => {
    let reset = false;
    const { user, calls } = renderApp(
      desk({
        "GET /api/v1/support/customers": () => json(200, { customers: [{ ...carol, two_factor_enabled: !reset }] }),
        "POST /api/v1/support/customers/{id}/two-factor/reset": () => {
          reset = true;
          return json(200, { enabled: false });
        },
      }),
      "/support",
    );
    await openCarol(user);
    await user.click(screen.getByRole("button", { name: "Reset two-factor for carol" }));
    expect(screen.getByRole("heading", { name: "Reset two-factor authentication for carol" })).toHaveFocus();
    await giveReason(user);
    await user.click(screen.getByRole("button", { name: "Reset two-factor" }));
    const dialog = screen.getByRole("alertdialog", { name: "Reset two-factor authentication for carol?" });
    await user.click(within(dialog).getByRole("button", { name: "OK" }));
    expect(await screen.findByText("Two-factor authentication for carol has been reset.")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/support/customers/c-1/two-factor")).toEqual([{ reason: "Lost phone, identity checked" }]);
    expect(await screen.findByText("Two-factor: off")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Reset two-factor for carol" })).not.toBeInTheDocument();
    // The form is gone: focus is back at the top of this customer.
    expect(screen.getByRole("heading", { name: "Customer carol" })).toHaveFocus();
  });

  it("unlocks sign-in with a required reason after confirmation, and shows the new event", async () => {
    let unlocked = false;
    const { user, calls } = renderApp(
      desk({
        "GET /api/v1/support/customers/{id}/events": () =>
          json(200, { events: unlocked ? [event(3, "account_unlocked_by_support"), event(2, "account_locked")] : [event(2, "account_locked")] }),
        "POST /api/v1/support/customers/{id}/unlock": () => {
          unlocked = true;
          return noContent(204);
        },
      }),
      "/support",
    );
    await openCarol(user);
    expect(await screen.findByText("Account temporarily locked after failed attempts")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Unlock sign-in for carol" }));
    expect(screen.getByRole("heading", { name: "Unlock sign-in for carol" })).toHaveFocus();
    await giveReason(user, "Locked out after typos, identity checked");
    await user.click(screen.getByRole("button", { name: "Unlock sign-in" }));
    const dialog = screen.getByRole("alertdialog", { name: "Unlock sign-in for carol?" });
    expect(within(dialog).getByText(/failed attempts are cleared/)).toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "OK" }));
    expect(await screen.findByText("Sign-in for carol has been unlocked.")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Customer carol" })).toHaveFocus();
    expect(await screen.findByText("Sign-in unlocked by customer support")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/support/customers/c-1/unlock")).toEqual([
      { reason: "Locked out after typos, identity checked" },
    ]);
  });

  it("requires two-factor of a customer with a reason, then offers to stop requiring it", async () => {
    let required = false;
    const { user, calls } = renderApp(
      desk({
        "GET /api/v1/support/customers": () =>
          json(200, { customers: [{ ...carol, two_factor_required_by_support: required }, carlos] }),
        "GET /api/v1/support/customers/{id}/events": () =>
          json(200, { events: required ? [event(3, "two_factor_required_by_support")] : [] }),
        "POST /api/v1/support/customers/{id}/require-two-factor": () => {
          required = true;
          return noContent(204);
        },
      }),
      "/support",
    );
    await openCarol(user);
    await user.click(screen.getByRole("button", { name: "Require two-factor for carol" }));
    expect(screen.getByRole("heading", { name: "Require two-factor authentication for carol" })).toHaveFocus();
    await giveReason(user, "Customer asked for it");
    await user.click(screen.getByRole("button", { name: "Require two-factor" }));
    const dialog = screen.getByRole("alertdialog", { name: "Require two-factor authentication for carol?" });
    await user.click(within(dialog).getByRole("button", { name: "OK" }));
    expect(await screen.findByText("Two-factor authentication is now required for carol.")).toBeInTheDocument();
    expect(await screen.findByText("Two-factor authentication required by customer support")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/support/customers/c-1/require-two-factor")).toEqual([{ reason: "Customer asked for it" }]);
    // Found again, carol shows the requirement and offers to lift it.
    await user.click(screen.getByRole("button", { name: "Search" }));
    await user.click(await screen.findByRole("button", { name: "Open carol" }));
    expect(await screen.findByRole("button", { name: "Stop requiring two-factor for carol" })).toBeInTheDocument();
    expect(screen.getByText(/Required by support/)).toBeInTheDocument();
  });

  it("does nothing when the agent cancels the confirmation", async () => {
    const { user, calls } = renderApp(desk(), "/support");
    await openCarol(user);
    await user.click(screen.getByRole("button", { name: "Unlock sign-in for carol" }));
    await giveReason(user);
    await user.click(screen.getByRole("button", { name: "Unlock sign-in" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST" && c.path.startsWith("/api/v1/support"))).toBe(false);
  });

  it("asks for the agent's six-digit code when the sign-in is old, then retries the reset", async () => {
    const { user, calls } = renderApp(
      desk({
        "POST /api/v1/support/customers/{id}/two-factor/reset": async (request) => {
          const body = (await request.json()) as { code?: string };
          if (!body.code) return problem(403, "reauthentication_required");
          if (body.code !== "654321") return problem(400, "invalid_code");
          return json(200, { enabled: false });
        },
      }),
      "/support",
    );
    await openCarol(user);
    await user.click(screen.getByRole("button", { name: "Reset two-factor for carol" }));
    await giveReason(user);
    await user.click(screen.getByRole("button", { name: "Reset two-factor" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));

    expect(await screen.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    expect(screen.queryByLabelText("Password")).not.toBeInTheDocument();
    const code = screen.getByRole("textbox", { name: "Six-digit code" });
    await user.type(code, "111111");
    await user.click(screen.getByRole("button", { name: "Confirm" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code did not work");
    await user.clear(code);
    await user.type(code, "654 321");
    await user.click(screen.getByRole("button", { name: "Confirm" }));
    expect(await screen.findByText("Two-factor authentication for carol has been reset.")).toBeInTheDocument();
    const reason = "Lost phone, identity checked";
    expect(bodiesOf(calls, "/api/v1/support/customers/c-1/two-factor")).toEqual([
      { reason },
      { reason, code: "111111" },
      { reason, code: "654321" },
    ]);
  });

  it("retries an unlock with a recovery code when the sign-in is old", async () => {
    const { user, calls } = renderApp(
      desk({
        "POST /api/v1/support/customers/{id}/unlock": async (request) => {
          const body = (await request.json()) as { recovery_code?: string };
          return body.recovery_code ? noContent(204) : problem(403, "reauthentication_required");
        },
      }),
      "/support",
    );
    await openCarol(user);
    await user.click(screen.getByRole("button", { name: "Unlock sign-in for carol" }));
    await giveReason(user);
    await user.click(screen.getByRole("button", { name: "Unlock sign-in" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    await screen.findByRole("heading", { name: "Confirm it's you" });
    await user.click(screen.getByRole("radio", { name: "Recovery code" }));
    await user.type(screen.getByRole("textbox", { name: "Recovery code" }), "abcde-fghij");
    await user.click(screen.getByRole("button", { name: "Confirm" }));
    expect(await screen.findByText("Sign-in for carol has been unlocked.")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/support/customers/c-1/unlock")).toEqual([
      { reason: "Lost phone, identity checked" },
      { reason: "Lost phone, identity checked", recovery_code: "abcde-fghij" },
    ]);
  });

  it("explains the hourly limit on resets and unlocks", async () => {
    const { user } = renderApp(
      desk({
        "POST /api/v1/support/customers/{id}/unlock": () =>
          problem(429, "too_many_attempts", {}, { "Retry-After": "1200" }),
      }),
      "/support",
    );
    await openCarol(user);
    await user.click(screen.getByRole("button", { name: "Unlock sign-in for carol" }));
    await giveReason(user);
    await user.click(screen.getByRole("button", { name: "Unlock sign-in" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      /You have reached the limit of 30 resets and unlocks an hour\. Please wait 20 minutes and try again after \d\d:\d\d( [AP]M)?\./,
    );
  });

  it("sends one search while one is out, however often Search is pressed", async () => {
    let release: () => void = () => undefined;
    const { user, calls } = renderApp(
      desk({
        "GET /api/v1/support/customers": () =>
          new Promise((resolve) => {
            release = () => resolve(json(200, { customers: [carol] }));
          }),
      }),
      "/support",
    );
    await user.type(await screen.findByLabelText("Search customers"), "car");
    await user.click(screen.getByRole("button", { name: "Search" }));
    expect(screen.getByRole("button", { name: "Search" })).toBeDisabled();
    await user.type(screen.getByLabelText("Search customers"), "{Enter}");
    release();
    expect(await screen.findByRole("button", { name: "Open carol" })).toBeInTheDocument();
    expect(calls.filter((c) => c.path.startsWith("/api/v1/support/customers?"))).toHaveLength(1);
  });

  it("sends one reset while one is out", async () => {
    let release: () => void = () => undefined;
    const { user, calls } = renderApp(
      desk({
        "POST /api/v1/support/customers/{id}/two-factor/reset": () =>
          new Promise((resolve) => {
            release = () => resolve(json(200, { enabled: false }));
          }),
      }),
      "/support",
    );
    await openCarol(user);
    await user.click(screen.getByRole("button", { name: "Reset two-factor for carol" }));
    await giveReason(user);
    await user.click(screen.getByRole("button", { name: "Reset two-factor" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    // Pending: the button is disabled and Enter in the form opens no second confirmation.
    expect(screen.getByRole("button", { name: "Reset two-factor" })).toBeDisabled();
    fireEvent.submit(screen.getByRole("form", { name: "Reset two-factor authentication for carol" }));
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    release();
    expect(await screen.findByText("Two-factor authentication for carol has been reset.")).toBeInTheDocument();
    expect(calls.filter((c) => c.path.endsWith("/two-factor/reset"))).toHaveLength(1);
  });
  it("an agent with a passkey proves a reset with it when the sign-in is old", async () => {
    const agent = account({ username: "sam", role: "support", two_factor: { ...twoFactorOn, methods: ["webauthn", "totp", "recovery_code"] } });
    const answer = { id: "a2V5", rawId: "a2V5", type: "public-key", response: {}, clientExtensionResults: {} };
    webauthn.startAuthentication.mockResolvedValue(answer as unknown as AuthenticationResponseJSON);
    const { user, calls } = renderApp(
      desk(
        {
          "POST /api/v1/account/webauthn/options": () =>
            json(200, { options: { publicKey: { challenge: "Y2g", rpId: "localhost" } } as unknown as Record<string, never> }),
          "POST /api/v1/support/customers/{id}/two-factor/reset": async (request) => {
            const body = (await request.json()) as { webauthn?: unknown };
            if (!body.webauthn) return problem(403, "reauthentication_required");
            return json(200, { enabled: false });
          },
        },
        agent,
      ),
      "/support",
    );
    await openCarol(user);
    await user.click(screen.getByRole("button", { name: "Reset two-factor for carol" }));
    await giveReason(user);
    await user.click(screen.getByRole("button", { name: "Reset two-factor" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    expect(await screen.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    await user.click(screen.getByRole("button", { name: "Confirm with your passkey or security key" }));
    expect(await screen.findByText("Two-factor authentication for carol has been reset.")).toBeInTheDocument();
    const reason = "Lost phone, identity checked";
    expect(bodiesOf(calls, "/api/v1/support/customers/c-1/two-factor")).toEqual([{ reason }, { reason, webauthn: answer }]);
  });
});
