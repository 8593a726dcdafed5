import { cleanup, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Language, Schemas } from "../api/types";
import { LocaleProvider } from "../i18n";
import { SecurityEventList } from "./SecurityEventList";

type SecurityEvent = Schemas["SecurityEvent"];

const once: SecurityEvent = {
  id: 2,
  kind: "login_succeeded",
  at: "2026-12-01T10:50:00Z",
  count: 1,
  last_at: "2026-12-01T10:50:00Z",
  ip: "192.0.2.10",
  user_agent: "Firefox",
  detail: null,
};

/** Wrong passwords from one network within an hour: one event with a count. */
const repeated = (count: number): SecurityEvent => ({
  id: 1,
  kind: "login_failed",
  at: "2026-12-01T10:02:00Z",
  count,
  last_at: "2026-12-01T10:47:00Z",
  ip: "203.0.113.7",
  user_agent: null,
  detail: null,
});

function renderList(events: SecurityEvent[], language: Language = "en") {
  render(
    <LocaleProvider initial={language}>
      <SecurityEventList events={events} problem={null} />
    </LocaleProvider>,
  );
  return screen.getAllByRole("listitem");
}

/** The last time as the list writes it, whatever the test machine's time zone. */
const lastAt = (language: Language) =>
  new Intl.DateTimeFormat(language, { timeStyle: "short" }).format(new Date("2026-12-01T10:47:00Z"));

describe("security event list", () => {
  it("says how many times a repeated failure happened and when the last was", () => {
    const [success, failures] = renderList([once, repeated(12)]);
    expect(within(failures!).getByText("Failed login")).toBeInTheDocument();
    expect(failures).toHaveTextContent(`12 times, last at ${lastAt("en")}`);
    expect(failures).toHaveTextContent("203.0.113.7");
    expect(success).not.toHaveTextContent(/times|once/);
  });

  it.each([
    [2, "2krát"],
    [4, "4krát"],
    [5, "5krát"],
    [25, "25krát"],
  ])("says %i times in Czech", (count, words) => {
    const [failures] = renderList([repeated(count)], "cs");
    expect(within(failures!).getByText("Neúspěšné přihlášení")).toBeInTheDocument();
    expect(failures).toHaveTextContent(`${words}, naposledy v ${lastAt("cs")}`);
  });

  it("names the browser and system people recognise, with the raw User-Agent as a tooltip", () => {
    const agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const named: SecurityEvent = {
      ...once,
      user_agent: agent,
      device_name: { browser: "Firefox", browser_version: "133", os: "Windows" },
    };
    const script: SecurityEvent = { ...once, id: 3, user_agent: "curl/8.5.0", device_name: null };
    const [firefox, curl] = renderList([named, script]);
    expect(within(firefox!).getByText("Firefox 133 on Windows")).toHaveAttribute("title", agent);
    expect(within(curl!).getByText("curl/8.5.0")).not.toHaveAttribute("title");
    cleanup();
    const [czech] = renderList([named], "cs");
    expect(within(czech!).getByText("Firefox 133 (Windows)")).toHaveAttribute("title", agent);
  });

  it("words an app given access to the account and an app's access removed, in both languages", () => {
    const granted: SecurityEvent = { ...once, id: 4, kind: "app_access_granted", ip: null, user_agent: null };
    const revoked: SecurityEvent = { ...once, id: 5, kind: "app_access_revoked", ip: null, user_agent: null };
    const [allowed, removed] = renderList([granted, revoked]);
    expect(within(allowed!).getByText("App allowed to use your account")).toBeInTheDocument();
    expect(within(removed!).getByText("App access removed")).toBeInTheDocument();
    cleanup();
    const [povoleno, odebran] = renderList([granted, revoked], "cs");
    expect(within(povoleno!).getByText("Aplikaci povoleno používat účet")).toBeInTheDocument();
    expect(within(odebran!).getByText("Aplikaci odebrán přístup k účtu")).toBeInTheDocument();
  });
});
