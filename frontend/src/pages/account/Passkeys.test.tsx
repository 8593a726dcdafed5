import { credential, notAllowed, webauthn } from "../../test/webauthn";
import { WebAuthnError } from "@simplewebauthn/browser";
import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Account, Schemas } from "../../api/types";
import { account, bodiesOf, json, noContent, problem, renderApp, signedIn } from "../../test/fakeServer";

// Passkey management: the browser's dialog is test/webauthn.ts's fake.

type Passkey = Schemas["PasskeySummary"];

const laptop: Passkey = {
  id: "90000000-0000-4000-8000-000000000001",
  name: "Work laptop",
  created_at: "2026-12-01T08:00:00Z",
  last_used_at: "2026-12-05T18:30:00Z",
};
const usbKey: Passkey = {
  id: "90000000-0000-4000-8000-000000000002",
  name: "Blue USB key",
  created_at: "2026-12-02T08:00:00Z",
  last_used_at: null,
};

const creationOptions = {
  publicKey: {
    rp: { id: "localhost", name: "custadmin" },
    user: { id: "dXNlcg", name: "alice", displayName: "alice" },
    challenge: "Y2hhbGxlbmdl",
    pubKeyCredParams: [{ type: "public-key", alg: -7 }],
  },
};

const passkeyOnly: Account["two_factor"] = {
  enabled: true,
  enabled_at: "2026-12-01T08:00:00Z",
  recovery_codes_remaining: 10, required: false, setup_required: false,
  methods: ["webauthn", "recovery_code"],
};
const totpAndPasskey: Account["two_factor"] = { ...passkeyOnly, methods: ["webauthn", "totp", "recovery_code"] };

async function passkeysSection() {
  const heading = await screen.findByRole("heading", { name: "Passkeys and security keys", level: 2 });
  return within(heading.closest("section") as HTMLElement);
}

describe("passkeys in Account Settings", () => {
  it("lists passkeys with when they were added and last used", async () => {
    renderApp({ ...signedIn(account({ two_factor: passkeyOnly })), "GET /api/v1/account/passkeys": () => json(200, { passkeys: [laptop, usbKey] }) }, "/account");
    const section = await passkeysSection();
    const items = await section.findAllByRole("listitem");
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("Work laptop");
    // In the browser's time zone: the day may differ from UTC's, the words not.
    expect(items[0]).toHaveTextContent(/Added Dec 1, 2026, \d+:\d\d [AP]M · last used Dec [56], 2026/);
    expect(items[1]).toHaveTextContent("Blue USB key");
    expect(items[1]).toHaveTextContent("never used");
  });

  it("adds a passkey: the name, the browser's dialog with the server's options, then the recovery codes of a first second factor", async () => {
    let list: Passkey[] = [];
    let current = account();
    const codes = Array.from({ length: 10 }, (_, i) => `abcd${i}-efgh${i}`);
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account": () => json(200, current),
        "GET /api/v1/account/passkeys": () => json(200, { passkeys: list }),
        "POST /api/v1/account/passkeys/register/start": () => json(200, { options: creationOptions as unknown as Record<string, never> }),
        "POST /api/v1/account/passkeys/register/finish": () => {
          list = [laptop];
          current = account({ two_factor: passkeyOnly });
          return json(201, { id: laptop.id, name: laptop.name, created_at: laptop.created_at, recovery_codes: codes });
        },
      },
      "/account",
    );
    const section = await passkeysSection();
    expect(await section.findByText("You have no passkeys or security keys.")).toBeInTheDocument();
    await user.click(section.getByRole("button", { name: "Add a passkey or security key" }));
    await user.type(section.getByLabelText("Name"), "  Work laptop ");
    await user.click(section.getByRole("button", { name: "Continue" }));

    expect(await section.findByRole("heading", { name: "Your recovery codes" })).toHaveFocus();
    expect(section.getByText(/If you lose your passkey or security key, each of these codes lets you log in once/)).toBeInTheDocument();
    expect(section.getAllByRole("listitem").map((li) => li.textContent)).toEqual(expect.arrayContaining(codes));
    expect(bodiesOf(calls, "/api/v1/account/passkeys/register/start")).toEqual([{ name: "Work laptop" }]);
    expect(webauthn.startRegistration).toHaveBeenCalledWith({ optionsJSON: creationOptions.publicKey });
    expect(bodiesOf(calls, "/api/v1/account/passkeys/register/finish")).toEqual([{ credential }]);
    expect(section.getByText(/The passkey "Work laptop" is added./)).toBeInTheDocument();
    // The account was asked again: two-factor is on now, which the section above says.
    expect(await screen.findByText(/Two-factor authentication is on since/)).toBeInTheDocument();
    expect(await section.findByText("Work laptop")).toBeInTheDocument();

    await user.click(section.getByLabelText("I have saved my recovery codes"));
    await user.click(section.getByRole("button", { name: "Done" }));
    expect(section.queryByRole("heading", { name: "Your recovery codes" })).not.toBeInTheDocument();
  });

  it("asks a passkey-only account for a recovery code (it has no six-digit code) when the sign-in is old", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(account({ two_factor: passkeyOnly })),
        "GET /api/v1/account/passkeys": () => json(200, { passkeys: [laptop] }),
        "POST /api/v1/account/passkeys/register/start": async (request) => {
          const body = (await request.json()) as { recovery_code?: string };
          if (!body.recovery_code) return problem(403, "reauthentication_required");
          return json(200, { options: creationOptions as unknown as Record<string, never> });
        },
        "POST /api/v1/account/passkeys/register/finish": () =>
          json(201, { id: usbKey.id, name: usbKey.name, created_at: usbKey.created_at }),
      },
      "/account",
    );
    const section = await passkeysSection();
    await user.click(await section.findByRole("button", { name: "Add a passkey or security key" }));
    await user.type(section.getByLabelText("Name"), "Blue USB key");
    await user.click(section.getByRole("button", { name: "Continue" }));
    expect(await section.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    expect(section.getByText(/with one of your recovery codes/)).toBeInTheDocument();
    expect(section.queryByLabelText("Six-digit code")).not.toBeInTheDocument();
    await user.type(section.getByLabelText("Recovery code"), "abcde-fghij");
    await user.click(section.getByRole("button", { name: "Confirm" }));
    expect(await section.findByText('The passkey "Blue USB key" is added. You can use it the next time you log in.')).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/passkeys/register/start")).toEqual([
      { name: "Blue USB key" },
      { name: "Blue USB key", recovery_code: "abcde-fghij" },
    ]);
    // No codes returned: it was not the first second factor, so none are shown.
    expect(section.queryByRole("heading", { name: "Your recovery codes" })).not.toBeInTheDocument();
  });

  it("says calmly that the browser's dialog was closed, and sends nothing more", async () => {
    webauthn.startRegistration.mockRejectedValue(notAllowed());
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "POST /api/v1/account/passkeys/register/start": () => json(200, { options: creationOptions as unknown as Record<string, never> }),
      },
      "/account",
    );
    const section = await passkeysSection();
    await user.click(await section.findByRole("button", { name: "Add a passkey or security key" }));
    await user.type(section.getByLabelText("Name"), "Phone");
    await user.click(section.getByRole("button", { name: "Continue" }));
    expect(await section.findByText(/The passkey dialog was closed before it finished/)).toBeInTheDocument();
    expect(section.queryByRole("alert")).not.toBeInTheDocument();
    expect(calls.some((c) => c.path.endsWith("/register/finish"))).toBe(false);
    // The form stays, to try again.
    expect(section.getByRole("button", { name: "Continue" })).toBeEnabled();
  });

  it("explains, as an alert, a key that is already registered", async () => {
    webauthn.startRegistration.mockRejectedValue(
      new WebAuthnError({
        message: "The authenticator was previously registered",
        code: "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED",
        cause: Object.assign(new Error("excluded"), { name: "InvalidStateError" }),
      }),
    );
    const { user } = renderApp(
      {
        ...signedIn(account({ two_factor: passkeyOnly })),
        "GET /api/v1/account/passkeys": () => json(200, { passkeys: [laptop] }),
        "POST /api/v1/account/passkeys/register/start": () => json(200, { options: creationOptions as unknown as Record<string, never> }),
      },
      "/account",
    );
    const section = await passkeysSection();
    await user.click(await section.findByRole("button", { name: "Add a passkey or security key" }));
    await user.type(section.getByLabelText("Name"), "Again");
    await user.click(section.getByRole("button", { name: "Continue" }));
    expect(await section.findByRole("alert")).toHaveTextContent("This passkey or security key is already added to your account.");
  });

  it("renames a passkey", async () => {
    let list = [laptop];
    const { user, calls } = renderApp(
      {
        ...signedIn(account({ two_factor: passkeyOnly })),
        "GET /api/v1/account/passkeys": () => json(200, { passkeys: list }),
        "PATCH /api/v1/account/passkeys/{id}": async (request) => {
          const { name } = (await request.json()) as { name: string };
          list = [{ ...laptop, name }];
          return json(200, list[0]!);
        },
      },
      "/account",
    );
    const section = await passkeysSection();
    await user.click(await section.findByRole("button", { name: "Rename passkey Work laptop" }));
    const field = section.getByLabelText("New name");
    expect(field).toHaveValue("Work laptop");
    await user.clear(field);
    await user.type(field, "Home laptop");
    await user.click(section.getByRole("button", { name: "Save name" }));
    expect(await section.findByText('The passkey is now called "Home laptop".')).toBeInTheDocument();
    expect(await section.findByText("Home laptop")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "PATCH")?.path).toBe(`/api/v1/account/passkeys/${laptop.id}`);
    expect(bodiesOf(calls, `/api/v1/account/passkeys/${laptop.id}`)).toEqual([{ name: "Home laptop" }]);
  });

  it("removes the last passkey after OK, warning that two-factor goes off, with a proof when the sign-in is old", async () => {
    let list = [laptop];
    let current = account({ two_factor: passkeyOnly });
    const { user, calls } = renderApp(
      {
        ...signedIn(current),
        "GET /api/v1/account": () => json(200, current),
        "GET /api/v1/account/passkeys": () => json(200, { passkeys: list }),
        "DELETE /api/v1/account/passkeys/{id}": async (request) => {
          const text = await request.text();
          if (!text) return problem(403, "reauthentication_required");
          list = [];
          current = account();
          return noContent(204);
        },
      },
      "/account",
    );
    const section = await passkeysSection();
    await user.click(await section.findByRole("button", { name: "Remove passkey Work laptop" }));
    const dialog = screen.getByRole("alertdialog", { name: 'Remove the passkey "Work laptop"?' });
    expect(dialog).toHaveTextContent("It is your last second factor: two-factor authentication goes off");
    await user.click(within(dialog).getByRole("button", { name: "OK" }));
    expect(await section.findByRole("heading", { name: "Confirm it's you" })).toBeInTheDocument();
    await user.type(section.getByLabelText("Recovery code"), "abcde-fghij");
    await user.click(section.getByRole("button", { name: "Confirm" }));
    expect(await section.findByText('The passkey "Work laptop" has been removed.')).toBeInTheDocument();
    expect(await section.findByText("You have no passkeys or security keys.")).toBeInTheDocument();
    expect(await screen.findByText(/Two-factor authentication is off/)).toBeInTheDocument();
    // The server signed out every other session: the list of places is asked again.
    await waitFor(() => expect(calls.filter((c) => c.path === "/api/v1/account/sessions").length).toBe(2));
    const deletes = calls.filter((c) => c.method === "DELETE");
    expect(deletes.map((c) => c.path)).toEqual([`/api/v1/account/passkeys/${laptop.id}`, `/api/v1/account/passkeys/${laptop.id}`]);
    expect(deletes.map((c) => c.body)).toEqual([undefined, { recovery_code: "abcde-fghij" }]);
  });

  it("removes nothing when the dialog is cancelled; with TOTP too it does not warn about two-factor", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(account({ two_factor: totpAndPasskey })),
        "GET /api/v1/account/passkeys": () => json(200, { passkeys: [laptop] }),
      },
      "/account",
    );
    const section = await passkeysSection();
    await user.click(await section.findByRole("button", { name: "Remove passkey Work laptop" }));
    const dialog = screen.getByRole("alertdialog");
    expect(dialog).toHaveTextContent("You can no longer log in with it.");
    expect(dialog).not.toHaveTextContent("two-factor authentication goes off");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
  });

  it("says clearly when this browser cannot use passkeys, and offers no adding, while the list stays manageable", async () => {
    webauthn.browserSupportsWebAuthn.mockReturnValue(false);
    renderApp({ ...signedIn(account({ two_factor: passkeyOnly })), "GET /api/v1/account/passkeys": () => json(200, { passkeys: [laptop] }) }, "/account");
    const section = await passkeysSection();
    expect(section.getByText(/This browser cannot use passkeys or security keys, so none can be added here/)).toBeInTheDocument();
    expect(await section.findByText("Work laptop")).toBeInTheDocument();
    expect(section.queryByRole("button", { name: "Add a passkey or security key" })).not.toBeInTheDocument();
    expect(section.getByRole("button", { name: "Remove passkey Work laptop" })).toBeInTheDocument();
  });

  it("in Czech", async () => {
    renderApp({ ...signedIn(account({ language: "cs" })) }, "/account", "cs");
    const section = await within(document.body).findByRole("heading", { name: "Přístupové a bezpečnostní klíče", level: 2 });
    const panel = within(section.closest("section") as HTMLElement);
    expect(await panel.findByText("Nemáte žádné přístupové ani bezpečnostní klíče.")).toBeInTheDocument();
    expect(panel.getByRole("button", { name: "Přidat přístupový nebo bezpečnostní klíč" })).toBeInTheDocument();
  });
});
