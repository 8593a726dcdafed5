import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { personalWords } from "../password/strength";
import { bodiesOf, noContent, problem, renderApp, signedIn, signedOut } from "../test/fakeServer";

describe("password strength", () => {
  it("shows a meter while a new password is typed on sign-up, with advice while it is weak", async () => {
    const { user } = renderApp(signedOut(), "/sign-up");
    await user.type(await screen.findByLabelText("Username"), "quillbertson");
    const password = screen.getByLabelText("Password");
    expect(screen.queryByRole("meter")).not.toBeInTheDocument();
    await user.type(password, "password1");
    expect(await screen.findByText("Strength: very weak")).toBeInTheDocument();
    expect(screen.getByRole("meter", { name: "Password strength" })).toHaveAttribute("value", "0");
    expect(screen.getByText("This is a commonly used password.")).toBeInTheDocument();
    expect(screen.getByText("Add another word or two; uncommon words are better.")).toBeInTheDocument();
    // The username counts as a dictionary word.
    await user.clear(password);
    await user.type(password, "quillbertson2024");
    expect(await screen.findByText("It contains your username or email address.")).toBeInTheDocument();
    await user.clear(password);
    await user.type(password, "marigold lantern quill");
    expect(await screen.findByText(/^Strength: (strong|very strong)$/)).toBeInTheDocument();
    expect(screen.queryByText("Add another word or two; uncommon words are better.")).not.toBeInTheDocument();
  });

  it("says in Czech why the server refused a password, from its feedback keys", async () => {
    const { user } = renderApp(
      {
        ...signedOut(),
        "POST /api/v1/auth/register": () =>
          problem(422, "password_too_weak", {
            field: "password",
            feedback: { warning: "contains_personal_info", suggestions: ["add_another_word"] },
          }),
      },
      "/sign-up",
      "cs",
    );
    await user.type(await screen.findByLabelText("Uživatelské jméno"), "alice");
    await user.type(screen.getByLabelText("Heslo"), "alice in chains 2024");
    await user.click(screen.getByRole("button", { name: "Vytvořit účet" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent(
      "Toto heslo se dá příliš snadno uhodnout. Obsahuje vaše uživatelské jméno nebo e-mailovou adresu. " +
        "Přidejte ještě jedno nebo dvě slova; méně běžná slova jsou lepší.",
    );
    expect(screen.getByLabelText("Heslo")).toHaveAttribute("aria-invalid", "true");
  });

  it("says a breached password on a change in English, and the new password field is marked", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "POST /api/v1/account/password": () => problem(422, "password_breached", { field: "new_password" }),
      },
      "/account",
    );
    await user.type(await screen.findByLabelText("Current password"), "correct horse battery");
    await user.type(screen.getByLabelText("New password"), "Tr0ub4dor&3 horse battery");
    expect(await screen.findByRole("meter", { name: "Password strength" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("appeared in a data breach elsewhere");
    expect(screen.getByLabelText("New password")).toHaveAttribute("aria-invalid", "true");
    expect(bodiesOf(calls, "/api/v1/account/password")).toEqual([
      { current_password: "correct horse battery", new_password: "Tr0ub4dor&3 horse battery" },
    ]);
  });

  it("shows the meter on the reset page too", async () => {
    const { user } = renderApp({ ...signedOut(), "POST /api/v1/auth/password-reset/confirm": () => noContent(204) }, "/reset-password?token=abc");
    await user.type(await screen.findByLabelText("New password"), "qwerty");
    expect(await screen.findByText("Strength: very weak")).toBeInTheDocument();
  });

  it("counts the username, the address and its pieces as the account's words", () => {
    expect(personalWords(" Alice ", "Jan.Novak@Example.com")).toEqual([
      "alice",
      "jan.novak@example.com",
      "jan.novak",
      "jan",
      "novak",
    ]);
    expect(personalWords("bob", null)).toEqual(["bob"]);
  });
});
