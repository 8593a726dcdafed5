import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { sameSitePath } from "../navigation";
import type { Account } from "../api/types";
import { account, json, renderApp, signedIn } from "../test/fakeServer";

const SET_UP = "Set up two-factor authentication when logging in using a username and password";
const CODES = Array.from({ length: 10 }, (_, i) => `code${i}-abcde`);

const overdue = (): Account =>
  account({
    two_factor: { enabled: false, enabled_at: null, recovery_codes_remaining: 0, required: true, setup_required: true, methods: [] },
    two_factor_required_by: "2026-12-01T09:00:00Z",
  });
const nowOn = (): Account =>
  account({
    two_factor: {
      enabled: true,
      enabled_at: "2026-12-06T10:00:00Z",
      recovery_codes_remaining: 10,
      required: true,
      setup_required: false,
      methods: ["totp", "recovery_code"],
    },
    two_factor_required_by: null,
  });

describe("Required two-factor", () => {
  it("shows the deadline on every signed-in page while it is ahead, with a link to the set-up", async () => {
    renderApp(
      signedIn(
        account({
          two_factor: { enabled: false, enabled_at: null, recovery_codes_remaining: 0, required: true, setup_required: false, methods: [] },
          two_factor_required_by: "2026-12-20T09:00:00Z",
        }),
      ),
      "/account",
    );
    const banner = await screen.findByRole("note");
    expect(banner).toHaveTextContent(/requires two-factor authentication for this account\. Please set it up by Dec 20, 2026/);
    expect(screen.getByRole("link", { name: "Set up two-factor authentication now" })).toHaveAttribute(
      "href",
      "/account#two-factor-heading",
    );
  });

  it("takes a set-up session straight to the set-up, explains why, and leads on once the codes are saved", async () => {
    let current = overdue();
    const { user } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account": () => json(200, current),
        "GET /api/v1/account/passkeys": () => json(200, { passkeys: [] }),
        "POST /api/v1/account/two-factor/enroll": () =>
          json(200, { secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" }),
        "POST /api/v1/account/two-factor/confirm": () => {
          current = nowOn();
          return json(200, { enabled: true, recovery_codes: CODES });
        },
      },
      "/account",
    );
    expect(await screen.findByRole("heading", { name: "Set up two-factor authentication", level: 1 })).toHaveFocus();
    expect(screen.getByText(/requires two-factor authentication for this account since Dec 1, 2026/)).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Account Settings" })).not.toBeInTheDocument();

    await user.click(screen.getByLabelText(SET_UP));
    await user.type(await screen.findByLabelText("Six-digit code"), "123456");
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    // The codes stay on screen although the account is no longer a set-up session.
    expect(await screen.findByRole("heading", { name: "Your recovery codes" })).toBeInTheDocument();
    expect(await screen.findByText(/Your account is fully available again/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Done" }));
    await user.click(screen.getByRole("link", { name: "Continue to Account Settings" }));
    expect(await screen.findByRole("heading", { name: "Account Settings", level: 1 })).toBeInTheDocument();
    expect(screen.queryByRole("note")).not.toBeInTheDocument();
  });

  it("warns before switching off a required second factor", async () => {
    renderApp(signedIn(nowOn()), "/account");
    expect(
      await screen.findByText(/if you switch it off, you will have to set it up again before you can do anything else/),
    ).toBeInTheDocument();
  });

  it("after a set-up an app asked for, leads back to the app's request", async () => {
    let current = account();
    const { user } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account": () => json(200, current),
        "POST /api/v1/account/two-factor/enroll": () =>
          json(200, { secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://x", qr_svg: "<svg/>" }),
        "POST /api/v1/account/two-factor/confirm": () => {
          current = account({ two_factor: { ...nowOn().two_factor, required: false } });
          return json(200, { enabled: true, recovery_codes: CODES });
        },
      },
      `/two-factor-setup?return=${encodeURIComponent("/authorize?request=rq_1")}`,
    );
    expect(await screen.findByRole("heading", { name: "Set up two-factor authentication", level: 1 })).toHaveFocus();
    expect(screen.getByText(/An app you are logging in to requires two-factor authentication/)).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Continue logging in to the app" })).not.toBeInTheDocument();

    await user.click(screen.getByLabelText(SET_UP));
    await user.type(await screen.findByLabelText("Six-digit code"), "123456");
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    expect(await screen.findByRole("heading", { name: "Your recovery codes" })).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "Continue logging in to the app" })).toHaveAttribute(
      "href",
      "/authorize?request=rq_1",
    );
  });

  it("follows only a path of this site back", async () => {
    renderApp(signedIn(nowOn()), `/two-factor-setup?return=${encodeURIComponent("//evil.example/authorize")}`);
    expect(await screen.findByRole("link", { name: "Continue to Account Settings" })).toHaveAttribute("href", "/account");
    expect(screen.queryByRole("link", { name: "Continue logging in to the app" })).not.toBeInTheDocument();

    expect(sameSitePath("/authorize?request=rq_1")).toBe("/authorize?request=rq_1");
    expect(sameSitePath("//evil.example/x")).toBeNull();
    expect(sameSitePath("/\\evil.example")).toBeNull();
    expect(sameSitePath("https://evil.example/")).toBeNull();
    expect(sameSitePath("javascript:alert(1)")).toBeNull();
    expect(sameSitePath("authorize")).toBeNull();
    expect(sameSitePath(null)).toBeNull();
  });
});
