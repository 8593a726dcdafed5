import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { account, bodiesOf, json, otpRequired, problem, renderApp, signedIn, signedOut } from "../test/fakeServer";
import { browserLanguage } from ".";

describe("languages", () => {
  it("picks the first of the browser's languages that the SPA ships", () => {
    expect(browserLanguage(["de-DE", "cs-CZ", "en"])).toBe("cs");
    expect(browserLanguage(["en-GB", "cs"])).toBe("en");
    expect(browserLanguage(["fr"])).toBe("en");
  });

  it("shows the article's labels in Czech, with Czech plurals", async () => {
    renderApp(
      signedIn(account({ two_factor: { enabled: true, enabled_at: "2026-12-01T10:00:00Z", recovery_codes_remaining: 3, required: false, setup_required: false, methods: ["totp", "recovery_code"] } })),
      "/account",
      "cs",
    );
    expect(await screen.findByRole("heading", { name: "Nastavení účtu", level: 1 })).toBeInTheDocument();
    expect(screen.getByLabelText("Vypnout dvoufázové ověření při přihlašování uživatelským jménem a heslem")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Uložit nastavení" })).toBeInTheDocument();
    expect(screen.getByText(/Máte 3 nepoužité záložní kódy\./)).toBeInTheDocument();
    expect(screen.getByText(/Zbývají vám jen 3 záložní kódy\./)).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("cs");
  });

  it("switches the language in the header and remembers it on the account", async () => {
    const { user, calls } = renderApp(
      {
        ...signedIn(),
        "PATCH /api/v1/account": async (request) => {
          const { language } = (await request.json()) as { language: "en" | "cs" };
          return json(200, account({ language }));
        },
      },
      "/account",
    );
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    await user.selectOptions(screen.getByLabelText("Language"), "cs");
    expect(await screen.findByRole("heading", { name: "Nastavení účtu", level: 1 })).toBeInTheDocument();
    expect(screen.getByLabelText("Jazyk")).toHaveValue("cs");
    expect(bodiesOf(calls, "/api/v1/account").filter(Boolean)).toEqual([{ language: "cs" }]);
  });

  it("uses the language remembered on the account over the browser's", async () => {
    renderApp(signedIn(account({ language: "cs" })), "/account", "en");
    expect(await screen.findByRole("heading", { name: "Nastavení účtu", level: 1 })).toBeInTheDocument();
  });

  it("switches a signed-out visitor's language without calling the account", async () => {
    const { user, calls } = renderApp(signedOut(), "/sign-in");
    await user.selectOptions(await screen.findByLabelText("Language"), "cs");
    expect(await screen.findByRole("heading", { name: "Přihlášení" })).toBeInTheDocument();
    expect(calls.some((c) => c.method === "PATCH")).toBe(false);
  });

  it("sends the customer back to the password step in Czech when the challenge is spent", async () => {
    const { user } = renderApp(
      {
        ...signedOut(),
        "POST /api/v1/auth/login": () => json(200, otpRequired()),
        "POST /api/v1/auth/otp": () => problem(401, "challenge_exhausted"),
      },
      "/sign-in",
      "cs",
    );
    await user.type(await screen.findByLabelText("Uživatelské jméno"), "alice");
    await user.type(screen.getByLabelText("Heslo"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Přihlásit se" }));
    await user.type(await screen.findByLabelText("Šestimístný kód"), "000000");
    await user.click(screen.getByRole("button", { name: "Přihlásit se" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Příliš mnoho chybných kódů. Přihlaste se znovu heslem.");
    expect(within(screen.getByRole("main")).getByRole("heading", { name: "Přihlášení" })).toBeInTheDocument();
  });
});
