import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { bodiesOf, json, problem, renderApp, signedOut } from "../test/fakeServer";

async function fill(user: ReturnType<typeof renderApp>["user"]) {
  await user.type(await screen.findByLabelText("Username"), "alice");
  await user.type(screen.getByLabelText("Password"), "correct horse battery");
  await user.click(screen.getByRole("button", { name: "Create account" }));
}

describe("sign-up", () => {
  it("creates an account and asks the customer to log in", async () => {
    const { user, calls } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/register": () => json(201, { id: "1", username: "alice" }) },
      "/sign-up",
    );
    expect(await screen.findByRole("heading", { name: "Create an account" })).toHaveFocus();
    await fill(user);
    expect(await screen.findByText("Your account has been created. Please log in.")).toBeInTheDocument();
    expect(bodiesOf(calls, "/api/v1/auth/register")).toEqual([
      { username: "alice", password: "correct horse battery", email: null },
    ]);
  });

  it("explains a taken username", async () => {
    const { user } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/register": () => problem(409, "username_taken") },
      "/sign-up",
    );
    await fill(user);
    expect(await screen.findByRole("alert")).toHaveTextContent("already taken");
    expect(screen.getByLabelText("Username")).toHaveAttribute("aria-invalid", "true");
  });

  it("explains when sign-up is switched off", async () => {
    const { user } = renderApp(
      { ...signedOut(), "POST /api/v1/auth/register": () => problem(403, "signup_disabled") },
      "/sign-up",
    );
    await fill(user);
    expect(await screen.findByRole("alert")).toHaveTextContent("contact customer support");
  });
});
