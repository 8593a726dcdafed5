import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { account, bodiesOf, json, renderApp, signedIn } from "../test/fakeServer";

const support = account({ username: "sam", role: "support" });
const carol = { id: "c-1", username: "carol", email: "carol@example.com", two_factor_enabled: true };
const carlos = { id: "c-2", username: "carlos", email: null, two_factor_enabled: false };

describe("support desk", () => {
  it("is only offered to support staff", async () => {
    renderApp(signedIn(), "/support");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Support desk" })).not.toBeInTheDocument();
  });

  it("searches customers and shows who has two-factor on", async () => {
    const { user, calls } = renderApp(
      { ...signedIn(support), "GET /api/v1/support/customers": () => json(200, { customers: [carol, carlos] }) },
      "/support",
    );
    expect(await screen.findByRole("heading", { name: "Support desk" })).toHaveFocus();
    await user.type(screen.getByLabelText("Search customers"), "car");
    await user.click(screen.getByRole("button", { name: "Search" }));
    const results = await screen.findByRole("region", { name: "Customers (2)" });
    expect(within(results).getByText("Two-factor: on")).toBeInTheDocument();
    expect(within(results).getByText("Two-factor: off")).toBeInTheDocument();
    expect(within(results).getAllByRole("button")).toHaveLength(1);
    expect(calls.find((c) => c.path.startsWith("/api/v1/support/customers"))?.path).toBe(
      "/api/v1/support/customers?query=car",
    );
  });

  it("resets two-factor with a required reason after confirmation", async () => {
    let reset = false;
    const { user, calls } = renderApp(
      {
        ...signedIn(support),
        "GET /api/v1/support/customers": () =>
          json(200, { customers: [{ ...carol, two_factor_enabled: !reset }] }),
        "POST /api/v1/support/customers/c-1/two-factor/reset": () => {
          reset = true;
          return json(200, { enabled: false });
        },
      },
      "/support",
    );
    await user.type(await screen.findByLabelText("Search customers"), "carol");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await user.click(await screen.findByRole("button", { name: "Reset two-factor for carol" }));
    expect(screen.getByRole("heading", { name: "Reset two-factor authentication for carol" })).toHaveFocus();
    const reason = screen.getByLabelText("Reason (required)");
    expect(reason).toBeRequired();
    await user.type(reason, "Lost phone, identity checked");
    await user.click(screen.getByRole("button", { name: "Reset two-factor" }));
    const dialog = screen.getByRole("alertdialog");
    await user.click(within(dialog).getByRole("button", { name: "OK" }));
    expect(await screen.findByText("Two-factor authentication for carol has been reset.")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/support/customers/c-1")).toEqual([{ reason: "Lost phone, identity checked" }]);
    expect(await screen.findByText("Two-factor: off")).toBeInTheDocument();
  });
});
