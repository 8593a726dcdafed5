import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

// Its own file: the module is reloaded here, which other tests' lazily loaded pages must not see.
describe("the first catalogue", () => {
  it("shows only a status in the chosen language until its catalogue is here, never English first", async () => {
    // A fresh copy of the module: no catalogue fetched yet, as on a browser's first visit.
    vi.resetModules();
    const { LocaleProvider, useT } = await import(".");
    function Heading() {
      const t = useT();
      return <h1>{t("signin.heading")}</h1>;
    }
    render(
      <LocaleProvider initial="cs">
        <Heading />
      </LocaleProvider>,
    );
    expect(screen.getByRole("status")).toHaveTextContent("Načítání…");
    expect(screen.queryByRole("heading")).not.toBeInTheDocument();
    expect(await screen.findByRole("heading", { name: "Přihlášení" })).toBeInTheDocument();
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
    expect(document.documentElement.lang).toBe("cs");
  });

  it("offers a retry in the chosen language when the catalogue cannot be fetched", async () => {
    vi.resetModules();
    vi.doMock("./cs", () => {
      throw new Error("offline");
    });
    const { LocaleProvider } = await import(".");
    render(
      <LocaleProvider initial="cs">
        <h1>never</h1>
      </LocaleProvider>,
    );
    expect(await screen.findByRole("alert")).toHaveTextContent("Stránku se nepodařilo načíst.");
    expect(screen.getByRole("button", { name: "Zkusit znovu" })).toBeInTheDocument();
    expect(screen.queryByRole("heading")).not.toBeInTheDocument();
    vi.doUnmock("./cs");
  });
});
