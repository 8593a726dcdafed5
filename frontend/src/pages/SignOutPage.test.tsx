import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { json, noContent, publicSettings, renderApp, signedIn, signedOut } from "../test/fakeServer";

describe("an app's sign-out request without a hint", () => {
  it("asks first, then signs out with the usual sign-out", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/config": () => json(200, publicSettings({ site_name: "Example Hosting" })),
        "POST /api/v1/auth/logout": () => noContent(204),
      },
      "/sign-out",
    );
    expect(await screen.findByRole("heading", { name: "Sign out of Example Hosting?", level: 1 })).toHaveFocus();
    // Opening the page ends nothing: anyone's page could have sent the browser here.
    expect(calls.some((c) => c.path === "/api/v1/auth/logout")).toBe(false);
    await user.click(within(screen.getByRole("main")).getByRole("button", { name: "Sign out" }));
    expect(await screen.findByText("You have signed out.")).toBeInTheDocument();
    expect(calls.filter((c) => c.path === "/api/v1/auth/logout")).toHaveLength(1);
  });

  it("focuses the question also when the session is checked only after the page is on screen", async () => {
    let answerRefresh = () => {};
    const refreshAnswered = new Promise<void>((resolve) => (answerRefresh = resolve));
    const routes = signedIn();
    const refresh = routes["POST /api/v1/auth/refresh"];
    renderApp(
      {
        ...routes,
        "POST /api/v1/auth/refresh": async (request) => {
          await refreshAnswered;
          return refresh!(request);
        },
      },
      "/sign-out",
    );
    // The page is here (it titles the tab), the session not yet: it says it is loading.
    await waitFor(() => expect(document.title).toMatch(/^Sign out of/));
    expect(screen.getByRole("status")).toHaveTextContent("Loading");
    answerRefresh();
    expect(await screen.findByRole("heading", { name: /^Sign out of/, level: 1 })).toHaveFocus();
  });

  it("stays signed in when asked to", async () => {
    const { user, calls } = renderApp({ ...signedIn() }, "/sign-out");
    await user.click(await screen.findByRole("button", { name: "Stay signed in" }));
    expect(await screen.findByRole("heading", { name: "Account Settings", level: 1 })).toBeInTheDocument();
    expect(calls.some((c) => c.path === "/api/v1/auth/logout")).toBe(false);
  });

  it("asks in Czech too", async () => {
    renderApp({ ...signedIn() }, "/sign-out", "cs");
    expect(await screen.findByRole("button", { name: "Zůstat přihlášeni" })).toBeInTheDocument();
  });

  it("goes to sign-in when nobody is signed in", async () => {
    renderApp(signedOut(), "/sign-out");
    expect(await screen.findByRole("heading", { name: "Log in", level: 1 })).toBeInTheDocument();
  });
});
