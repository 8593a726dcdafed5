import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { account, json, otpRequired, publicSettings, renderApp, signedIn, signedOut, type Routes } from "../test/fakeServer";

/** A hosting company that set its name, logo and colour. */
const BRANDED = publicSettings({
  site_name: "Example Hosting",
  logo_url: "/api/v1/brand/logo-0123456789abcdef.svg",
  brand_color: "#0b5cad",
});

const SET_UP = "Set up two-factor authentication when logging in using a username and password";

/** The page's own header (the site's banner), apart from the page's content. */
const header = () => screen.getByRole("banner");

/** jsdom's Blob has no `text()`; its FileReader reads one. */
function readText(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error("unreadable"));
    reader.readAsText(blob);
  });
}

afterEach(() => {
  document.title = "";
});

describe("the hosting company's brand", () => {
  it("names the site in the header and the tab's title, custadmin by default", async () => {
    renderApp(signedOut(), "/sign-in");
    await screen.findByRole("heading", { name: "Log in", level: 1 });
    expect(await within(header()).findByText("custadmin")).toBeInTheDocument();
    await waitFor(() => expect(document.title).toBe("Log in · custadmin"));
  });

  it("shows the logo with the site name as its text, and the brand colour", async () => {
    renderApp(signedOut(BRANDED), "/sign-in");
    const logo = await within(header()).findByRole("img", { name: "Example Hosting" });
    expect(logo).toHaveAttribute("src", "/api/v1/brand/logo-0123456789abcdef.svg");
    expect(within(header()).queryByText("custadmin")).not.toBeInTheDocument();
    await waitFor(() => expect(document.title).toBe("Log in · Example Hosting"));
    expect(document.documentElement.style.getPropertyValue("--brand")).toBe("#0b5cad");
  });

  it("keeps the default colours without a brand colour", async () => {
    renderApp(signedOut(publicSettings({ site_name: "Example Hosting" })), "/sign-in");
    expect(await within(header()).findByText("Example Hosting")).toBeInTheDocument();
    expect(document.documentElement.style.getPropertyValue("--brand")).toBe("");
  });

  it("titles Account Settings with the site", async () => {
    const routes: Routes = { ...signedIn(), "GET /api/v1/config": () => json(200, BRANDED) };
    renderApp(routes, "/account");
    await screen.findByRole("heading", { name: "Account Settings", level: 1 });
    await waitFor(() => expect(document.title).toBe("Account Settings · Example Hosting"));
  });

  it("titles Czech pages with the site too", async () => {
    renderApp({ ...signedIn(), "GET /api/v1/config": () => json(200, BRANDED) }, "/account", "cs");
    await screen.findByRole("heading", { name: "Nastavení účtu", level: 1 });
    await waitFor(() => expect(document.title).toBe("Nastavení účtu · Example Hosting"));
  });

  it("names in the code hint the entry the OTP application shows", async () => {
    const { user } = renderApp(
      {
        ...signedOut(BRANDED),
        "POST /api/v1/auth/login": () => json(200, otpRequired()),
        "GET /api/v1/account": () => json(200, account()),
      },
      "/sign-in",
    );
    await user.type(await screen.findByLabelText("Username"), "alice");
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    const field = await screen.findByLabelText("Six-digit code");
    expect(field).toHaveAccessibleDescription(
      "Open your OTP application and enter the six-digit code it shows for Example Hosting.",
    );
    await waitFor(() => expect(document.title).toBe("Two-factor authentication · Example Hosting"));
  });

  it("names the site in the QR code's text and the downloaded recovery codes", async () => {
    const { user } = renderApp(
      {
        ...signedIn(),
        "GET /api/v1/config": () => json(200, BRANDED),
        "POST /api/v1/account/two-factor/enroll": () =>
          json(200, {
            secret: "JBSWY3DPEHPK3PXP",
            otpauth_uri: "otpauth://totp/Example%20Hosting:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example%20Hosting",
            qr_svg: "<svg/>",
          }),
        "POST /api/v1/account/two-factor/confirm": () => json(200, { enabled: true, recovery_codes: ["abcde-fghij"] }),
      },
      "/account",
    );
    await user.click(await screen.findByLabelText(SET_UP));
    expect(await screen.findByRole("img", { name: "QR code for adding Example Hosting to your OTP application" })).toBeInTheDocument();
    await user.type(screen.getByLabelText("Six-digit code"), "123456");
    await user.click(screen.getByRole("button", { name: "Save Settings" }));
    await screen.findByRole("heading", { name: "Your recovery codes" });

    const saved: { name: string; blob: Blob }[] = [];
    const createObjectURL = vi.fn(() => "blob:codes");
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ name: this.download, blob: (createObjectURL.mock.calls.at(-1) as unknown as [Blob])[0] });
    });
    await user.click(screen.getByRole("button", { name: "Download codes" }));
    click.mockRestore();
    expect(saved).toHaveLength(1);
    expect(saved[0]?.name).toMatch(/^Example_Hosting-recovery-codes-alice-\d{4}-\d{2}-\d{2}\.txt$/);
    const text = await readText(saved[0]!.blob);
    expect(text).toMatch(/^Recovery codes for alice at Example Hosting, created .+\. Each code works once\.\n\nabcde-fghij\n$/);
  });
});
