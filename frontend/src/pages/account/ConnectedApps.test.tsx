import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/types";
import { json, noContent, problem, renderApp, signedIn } from "../../test/fakeServer";

type ConnectedApp = Schemas["ConnectedApp"];

const webmail: ConnectedApp = {
  client_id: "ca_webmail",
  name: "Webmail",
  scopes: ["openid", "profile", "email", "offline_access"],
  granted_at: "2026-12-01T08:00:00Z",
  last_used_at: "2026-12-05T18:30:00Z",
};
const forum: ConnectedApp = {
  client_id: "ca_forum",
  name: "Forum",
  scopes: ["openid"],
  granted_at: "2026-12-02T08:00:00Z",
  last_used_at: null,
};

async function appsSection() {
  const heading = await screen.findByRole("heading", { name: "Apps with access", level: 2 });
  return within(heading.closest("section") as HTMLElement);
}

const appItem = async (section: Awaited<ReturnType<typeof appsSection>>, name: string) =>
  (await section.findByText(name)).closest("li") as HTMLElement;

describe("Apps with access", () => {
  it("lists each app with what it sees, since when and when it last used its access", async () => {
    renderApp({ ...signedIn(), "GET /api/v1/account/apps": () => json(200, [webmail, forum]) }, "/account");
    const section = await appsSection();
    const mail = await appItem(section, "Webmail");
    expect(within(mail).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "Recognise you by this account (it never sees your password)",
      "See your username and language",
      "See your email address and whether it is confirmed",
      "Stay signed in when you are away, until you remove its access",
    ]);
    expect(mail).toHaveTextContent("Allowed Dec 1, 2026");
    expect(mail).toHaveTextContent("last used Dec 5, 2026");
    expect(await appItem(section, "Forum")).toHaveTextContent("not used yet");
  });

  it("says when no app has access", async () => {
    renderApp(signedIn(), "/account");
    const section = await appsSection();
    expect(await section.findByText("No app has access to your account.")).toBeInTheDocument();
  });

  it("removes an app after confirming, then reads the list and the security events again", async () => {
    let list = [webmail, forum];
    let eventReads = 0;
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account/apps": () => json(200, list),
        "GET /api/v1/account/events": () => {
          eventReads += 1;
          return json(200, { events: [] });
        },
        "DELETE /api/v1/account/apps/{client_id}": () => {
          list = [forum];
          return noContent(204);
        },
      },
      "/account",
    );
    const section = await appsSection();
    await user.click(await section.findByRole("button", { name: "Remove access for Webmail" }));
    const dialog = screen.getByRole("alertdialog", { name: "Remove access for Webmail?" });
    expect(dialog).toHaveTextContent("Webmail loses access to your account at once");
    // Cancel changes nothing.
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);

    await user.click(section.getByRole("button", { name: "Remove access for Webmail" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    expect(await section.findByText("Webmail no longer has access to your account.")).toBeInTheDocument();
    await waitFor(() => expect(section.queryByText("Webmail")).not.toBeInTheDocument());
    expect(section.getByText("Forum")).toBeInTheDocument();
    expect(section.getByRole("heading", { name: "Apps with access" })).toHaveFocus();
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual(["/api/v1/account/apps/ca_webmail"]);
    await waitFor(() => expect(eventReads).toBe(2));
  });

  it("shows a failed removal and reads the list again", async () => {
    let reads = 0;
    const { user } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/account/apps": () => {
          reads += 1;
          return json(200, [webmail]);
        },
        "DELETE /api/v1/account/apps/{client_id}": () => problem(404, "not_found"),
      },
      "/account",
    );
    const section = await appsSection();
    await user.click(await section.findByRole("button", { name: "Remove access for Webmail" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "OK" }));
    expect(await section.findByRole("alert")).toHaveTextContent("We could not find that.");
    await waitFor(() => expect(reads).toBe(2));
  });
});
