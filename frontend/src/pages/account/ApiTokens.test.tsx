import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Schemas } from "../../api/types";
import { account, bodiesOf, json, noContent, problem, renderApp, signedIn } from "../../test/fakeServer";
import { grantableScopes, networkList } from "./ApiTokens";

type Token = Schemas["TokenSummary"];

const portal: Token = {
  id: "70000000-0000-4000-8000-000000000001",
  name: "Reseller portal",
  scopes: ["account:read"],
  prefix: "cat_AbCd",
  created_at: "2026-12-01T08:00:00Z",
  last_used_at: null,
  expires_at: "2027-03-01T08:00:00Z",
};

async function tokensSection() {
  const heading = await screen.findByRole("heading", { name: "API tokens", level: 2 });
  return within(heading.closest("section") as HTMLElement);
}

describe("API tokens", () => {
  it("offers support scopes to support staff only", () => {
    expect(grantableScopes("customer")).toEqual(["account:read"]);
    expect(grantableScopes("support")).toEqual(["account:read", "support:read", "support:reset"]);
  });

  it("creates a token after a proof, shows it once with a copy button, and lists it", async () => {
    let list: Token[] = [];
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account/api-tokens": () => json(200, { tokens: list }),
        "POST /api/v1/account/api-tokens": async (request) => {
          const body = (await request.json()) as { password?: string };
          if (!body.password) return problem(403, "reauthentication_required");
          list = [portal];
          return json(201, { id: portal.id, name: portal.name, scopes: portal.scopes, prefix: portal.prefix, expires_at: portal.expires_at, token: "cat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" });
        },
      },
      "/account",
    );
    // After userEvent's setup, which installs a clipboard of its own.
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const section = await tokensSection();
    expect(await section.findByText("You have no API tokens.")).toBeInTheDocument();
    await user.click(section.getByRole("button", { name: "Create an API token" }));
    // A customer may grant only account:read.
    expect(section.getAllByRole("checkbox")).toHaveLength(1);
    expect(section.getByRole("checkbox", { name: "Read this account (account:read)" })).toBeChecked();
    await user.type(section.getByLabelText("Name"), "Reseller portal");
    await user.clear(section.getByLabelText("Valid for (days)"));
    await user.type(section.getByLabelText("Valid for (days)"), "30");
    await user.click(section.getByRole("button", { name: "Create token" }));
    expect(await section.findByRole("heading", { name: "Confirm it's you" })).toHaveFocus();
    await user.type(section.getByLabelText("Password"), "correct horse battery");
    await user.click(section.getByRole("button", { name: "Confirm" }));

    expect(await section.findByRole("heading", { name: 'Your new token "Reseller portal"' })).toHaveFocus();
    expect(section.getByText("Copy it now: you will not see it again.")).toBeInTheDocument();
    expect(section.getByText("cat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")).toBeInTheDocument();
    await user.click(section.getByRole("button", { name: "Copy token" }));
    expect(writeText).toHaveBeenCalledWith("cat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789");
    expect(await section.findByText("The token is copied to your clipboard.")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/api-tokens").filter(Boolean)).toEqual([
      { name: "Reseller portal", scopes: ["account:read"], expires_in_days: 30 },
      { name: "Reseller portal", scopes: ["account:read"], expires_in_days: 30, password: "correct horse battery" },
    ]);

    const listed = await section.findByRole("listitem");
    expect(listed).toHaveTextContent("Reseller portal");
    expect(listed).toHaveTextContent("cat_AbCd…");
    expect(listed).toHaveTextContent("never used");
    await user.click(section.getByRole("button", { name: "Done" }));
    expect(section.queryByText("cat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")).not.toBeInTheDocument();
  });

  it("lets support staff grant support scopes", async () => {
    const { user } = renderApp(signedIn(account({ role: "support" })), "/account");
    const section = await tokensSection();
    await user.click(await section.findByRole("button", { name: "Create an API token" }));
    expect(section.getByRole("checkbox", { name: "Look up customers (support:read)" })).not.toBeChecked();
    expect(section.getByRole("checkbox", { name: /support:reset/ })).toBeInTheDocument();
    // A support scope lives a month at most.
    const days = section.getByLabelText("Valid for (days)");
    expect(days).toHaveValue(90);
    await user.click(section.getByRole("checkbox", { name: "Look up customers (support:read)" }));
    expect(days).toHaveValue(30);
    expect(days).toHaveAttribute("max", "30");
    await user.click(section.getByRole("checkbox", { name: "Look up customers (support:read)" }));
    expect(days).toHaveAttribute("max", "365");
  });

  it("binds a new token to the networks typed and lists them", async () => {
    let list: Token[] = [];
    const bound: Token = { ...portal, allowed_networks: ["203.0.113.0/24", "2001:db8:42::/48"] };
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account/api-tokens": () => json(200, { tokens: list }),
        "POST /api/v1/account/api-tokens": async (request) => {
          const body = (await request.json()) as { allowed_networks?: string[] };
          if (body.allowed_networks?.includes("example.com"))
            return problem(422, "validation_failed", { field: "allowed_networks", detail: "\"example.com\" is not an IP address or network" });
          list = [bound];
          return json(201, { ...bound, token: "cat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" });
        },
      },
      "/account",
    );
    const section = await tokensSection();
    await user.click(await section.findByRole("button", { name: "Create an API token" }));
    await user.type(section.getByLabelText("Name"), "Reseller portal");
    const networks = section.getByLabelText("Allowed networks (optional)");
    await user.type(networks, "example.com");
    await user.click(section.getByRole("button", { name: "Create token" }));
    expect(await section.findByRole("alert")).toHaveTextContent("example.com");
    expect(networks).toHaveAttribute("aria-invalid", "true");
    await user.clear(networks);
    await user.type(networks, "203.0.113.0/24,  2001:db8:42::/48");
    await user.click(section.getByRole("button", { name: "Create token" }));
    expect(await section.findByRole("heading", { name: 'Your new token "Reseller portal"' })).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/account/api-tokens").filter(Boolean).at(-1)).toEqual({
      name: "Reseller portal",
      scopes: ["account:read"],
      expires_in_days: 90,
      allowed_networks: ["203.0.113.0/24", "2001:db8:42::/48"],
    });
    const listed = await section.findByRole("listitem");
    expect(listed).toHaveTextContent("only from 203.0.113.0/24 and 2001:db8:42::/48");
  });

  it("says an unbound token works from any network, in Czech too", async () => {
    renderApp({ ...signedIn(), "GET /api/v1/account/api-tokens": () => json(200, { tokens: [portal] }) }, "/account", "cs");
    expect(await screen.findByText(/z jakékoli sítě/)).toBeInTheDocument();
  });

  it("splits the networks typed at commas, spaces and lines", () => {
    expect(networkList(" 10.0.0.0/8, 2001:db8::/32\n192.0.2.1 ;")).toEqual(["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]);
    expect(networkList("  ")).toEqual([]);
  });

  it("revokes a token after OK", async () => {
    let list: Token[] = [portal];
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account/api-tokens": () => json(200, { tokens: list }),
        "DELETE /api/v1/account/api-tokens/{id}": () => {
          list = [];
          return noContent(204);
        },
      },
      "/account",
    );
    const section = await tokensSection();
    await user.click(await section.findByRole("button", { name: "Revoke token Reseller portal" }));
    const dialog = await screen.findByRole("alertdialog", { name: 'Revoke the token "Reseller portal"?' });
    await user.click(within(dialog).getByRole("button", { name: "OK" }));
    expect(await section.findByText('The token "Reseller portal" has been revoked.')).toBeInTheDocument();
    await waitFor(() => expect(section.getByText("You have no API tokens.")).toBeInTheDocument());
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual([`/api/v1/account/api-tokens/${portal.id}`]);
  });
});
