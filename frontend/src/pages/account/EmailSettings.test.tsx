import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Account } from "../../api/types";
import { account, bodiesOf, json, noContent, problem, renderApp, signedIn } from "../../test/fakeServer";

const twoFactorOn = { enabled: true, enabled_at: "2026-12-01T10:00:00Z", recovery_codes_remaining: 10, required: false, setup_required: false, methods: ["totp", "recovery_code"] } satisfies Account["two_factor"];

async function emailSection() {
  const heading = await screen.findByRole("heading", { name: "Email address", level: 2 });
  return within(heading.closest("section") as HTMLElement);
}

describe("Email address in Account Settings", () => {
  it("shows a verified address with its badge and no resend button", async () => {
    renderApp(signedIn(), "/account");
    const section = await emailSection();
    expect(section.getByText("alice@example.com")).toBeInTheDocument();
    expect(section.getByText("Verified")).toBeInTheDocument();
    expect(section.queryByRole("button", { name: "Resend verification link" })).not.toBeInTheDocument();
  });

  it("resends the link to an unverified address by posting the same address", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(account({ email_verified: false })),
        "POST /api/v1/account/email": () => noContent(202),
      },
      "/account",
    );
    const section = await emailSection();
    expect(section.getByText("Not verified")).toBeInTheDocument();
    await user.click(section.getByRole("button", { name: "Resend verification link" }));
    expect(await section.findByRole("status")).toHaveTextContent("We sent a confirmation link to alice@example.com");
    expect(bodiesOf(calls, "/api/v1/account/email")).toEqual([{ email: "alice@example.com" }]);
  });

  it("shows the address waiting for confirmation", async () => {
    renderApp(signedIn(account({ pending_email: "new@example.com" })), "/account");
    const section = await emailSection();
    expect(
      section.getByText("new@example.com is waiting for confirmation: check your inbox and open the link we sent there."),
    ).toBeInTheDocument();
  });

  it("adds an address when there is none", async () => {
    let current: Account = account({ email: null, email_verified: false });
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account": () => json(200, current),
        "POST /api/v1/account/email": () => {
          current = { ...current, pending_email: "alice@example.org" };
          return noContent(202);
        },
      },
      "/account",
    );
    const section = await emailSection();
    expect(section.getByText(/You have not given an email address/)).toBeInTheDocument();
    await user.click(section.getByRole("button", { name: "Add an email address" }));
    await user.type(section.getByLabelText("New email address"), " alice@example.org ");
    await user.click(section.getByRole("button", { name: "Send confirmation link" }));
    expect(await section.findByText(/alice@example.org is waiting for confirmation/)).toBeInTheDocument();
    expect(section.getByRole("status")).toHaveTextContent("We sent a confirmation link to alice@example.org");
    expect(section.getByRole("heading", { name: "Email address" })).toHaveFocus();
    expect(bodiesOf(calls, "/api/v1/account/email")).toEqual([{ email: "alice@example.org" }]);
  });

  it("asks an old two-factor sign-in for a code before changing the address", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(account({ two_factor: twoFactorOn })),
        "POST /api/v1/account/email": async (request) => {
          const body = (await request.json()) as { code?: string };
          return body.code ? noContent(202) : problem(403, "reauthentication_required");
        },
      },
      "/account",
    );
    const section = await emailSection();
    await user.click(section.getByRole("button", { name: "Change email address" }));
    await user.type(section.getByLabelText("New email address"), "alice@example.net");
    await user.click(section.getByRole("button", { name: "Send confirmation link" }));
    expect(await section.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    await user.type(section.getByRole("textbox", { name: "Six-digit code" }), "123 456");
    await user.click(section.getByRole("button", { name: "Confirm" }));
    expect(await section.findByText(/We sent a confirmation link to alice@example.net/)).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/email")).toEqual([
      { email: "alice@example.net" },
      { email: "alice@example.net", code: "123456" },
    ]);
  });

  it("says when too many links were mailed, with the time to try again", async () => {
    const { user } = renderApp(
      {
        ...signedIn(account({ email_verified: false })),
        "POST /api/v1/account/email": () => problem(429, "too_many_attempts", { retry_after: 600 }, { "Retry-After": "600" }),
      },
      "/account",
    );
    const section = await emailSection();
    await user.click(section.getByRole("button", { name: "Resend verification link" }));
    expect(await section.findByRole("alert")).toHaveTextContent(/We have already sent several links\. Please wait 10 minutes/);
  });
});
