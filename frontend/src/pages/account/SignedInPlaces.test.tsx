import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/types";
import { json, noContent, renderApp, signedIn, thisSession } from "../../test/fakeServer";

type Session = Schemas["SessionSummary"];
type Device = Schemas["DeviceSummary"];

const phone = thisSession({
  id: "5b0e1d2c-0000-4000-8000-000000000002",
  current: false,
  user_agent: "Mozilla/5.0 (Linux; Android 14)",
  ip: "198.51.100.7",
  amr: ["pwd", "otp"],
});
const tablet = thisSession({
  id: "5b0e1d2c-0000-4000-8000-000000000003",
  current: false,
  user_agent: "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)",
  amr: ["pwd", "mfa"],
});
const laptop: Device = {
  id: "d0000000-0000-4000-8000-000000000001",
  current: true,
  created_at: "2026-11-01T08:00:00Z",
  last_used_at: "2026-12-02T06:00:00Z",
  trusted_until: "2099-01-01T00:00:00Z",
  user_agent: "Mozilla/5.0 (X11; Linux x86_64)",
};
const oldPhone: Device = { ...laptop, id: "d0000000-0000-4000-8000-000000000002", current: false, trusted_until: null, user_agent: "Mozilla/5.0 (Linux; Android 14)" };

/** A server whose lists shrink as the SPA ends sessions and forgets devices. */
function places(sessions: Session[], devices: Device[]) {
  let liveSessions = sessions;
  let knownDevices = devices;
  return {
    ...signedIn(),
    "GET /api/v1/account/sessions": () => json(200, { sessions: liveSessions }),
    "GET /api/v1/account/devices": () => json(200, { devices: knownDevices }),
    "DELETE /api/v1/account/sessions/{id}": (request: Request) => {
      liveSessions = liveSessions.filter((s) => !request.url.endsWith(s.id));
      return noContent(204);
    },
    "POST /api/v1/account/sessions/revoke-others": () => {
      liveSessions = liveSessions.filter((s) => s.current);
      return noContent(204);
    },
    "DELETE /api/v1/account/devices/{id}": (request: Request) => {
      knownDevices = knownDevices.filter((d) => !request.url.endsWith(d.id));
      return noContent(204);
    },
  } as const;
}

async function placesSection() {
  const heading = await screen.findByRole("heading", { name: "Where you're signed in", level: 2 });
  return within(heading.closest("section") as HTMLElement);
}

describe("Where you're signed in", () => {
  it("lists sessions with how they signed in, this one marked and without an End button", async () => {
    renderApp(places([thisSession(), phone, tablet], [laptop]), "/account");
    const section = await placesSection();
    const sessions = within(await section.findByRole("list", { name: "Sessions" })).getAllByRole("listitem");
    expect(sessions).toHaveLength(3);
    expect(section.getByText("You are signed in in 3 places.")).toBeInTheDocument();
    expect(sessions[0]).toHaveTextContent("This session");
    expect(sessions[0]).toHaveTextContent("Password only");
    expect(within(sessions[0]!).queryByRole("button")).not.toBeInTheDocument();
    expect(sessions[1]).toHaveTextContent("Password + code");
    expect(sessions[1]).toHaveTextContent("IP address 198.51.100.7");
    expect(sessions[2]).toHaveTextContent("Password + trusted device");
    expect(within(sessions[1]!).getByRole("button", { name: /^End session Mozilla\/5\.0 \(Linux; Android 14\)/ })).toBeInTheDocument();
  });

  it("ends one other session and shows the list again without it", async () => {
    const { user, calls } = renderApp(places([thisSession(), phone, tablet], []), "/account");
    const section = await placesSection();
    await user.click(await section.findByRole("button", { name: /^End session Mozilla\/5\.0 \(Linux; Android 14\)/ }));
    expect(await section.findByText("The session has ended: that browser has to log in again.")).toBeInTheDocument();
    await waitFor(() => expect(section.getAllByRole("listitem")).toHaveLength(2));
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual([`/api/v1/account/sessions/${phone.id}`]);
    // The security events are fetched again, so "Session ended" shows up there.
    expect(calls.filter((c) => c.path.startsWith("/api/v1/account/events")).length).toBeGreaterThan(1);
  });

  it("ends every other session at once, says what else ends, then offers it no more", async () => {
    const { user, calls } = renderApp(places([thisSession(), phone, tablet], []), "/account");
    const section = await placesSection();
    expect(await section.findByText(/This also ends your API tokens/)).toBeInTheDocument();
    await user.click(await section.findByRole("button", { name: "End all other sessions" }));
    expect(await section.findByText(/and so have your API tokens/)).toBeInTheDocument();
    expect(await section.findByText("You are signed in in 1 place.")).toBeInTheDocument();
    expect(section.queryByRole("button", { name: "End all other sessions" })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.path === "/api/v1/account/sessions/revoke-others")).toHaveLength(1);
  });

  it("lists known devices, trusted until a date, and forgets one", async () => {
    const { user, calls } = renderApp(places([thisSession()], [laptop, oldPhone]), "/account");
    const section = await placesSection();
    const devices = within(await section.findByRole("list", { name: "Known devices" })).getAllByRole("listitem");
    expect(devices[0]).toHaveTextContent("This device");
    expect(devices[0]).toHaveTextContent(/Trusted until .*2099.*: no code asked/);
    expect(devices[1]).toHaveTextContent("Not trusted: the code is asked");
    await user.click(within(devices[1]!).getByRole("button", { name: /^Forget device Mozilla\/5\.0 \(Linux; Android 14\)/ }));
    expect(await section.findByText(/The device is forgotten/)).toBeInTheDocument();
    await waitFor(() => expect(within(section.getByRole("list", { name: "Known devices" })).getAllByRole("listitem")).toHaveLength(1));
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual([`/api/v1/account/devices/${oldPhone.id}`]);
  });

  it("speaks Czech, with Czech plurals", async () => {
    renderApp(places([thisSession(), phone, tablet], []), "/account", "cs");
    const heading = await screen.findByRole("heading", { name: "Kde jste přihlášeni", level: 2 });
    const section = within(heading.closest("section") as HTMLElement);
    expect(await section.findByText("Jste přihlášeni na 3 místech.")).toBeInTheDocument();
    expect(section.getByText("Heslo + důvěryhodné zařízení")).toBeInTheDocument();
    expect(section.getByText("Zatím žádná známá zařízení.")).toBeInTheDocument();
  });

  it("names browsers and systems people recognise, the raw User-Agent in a tooltip", async () => {
    const agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0)";
    const firefox = { ...phone, user_agent: agent, device_name: { browser: "Firefox", browser_version: "133", os: "Windows" } };
    const safari = { ...tablet, device_name: { browser: "Safari", browser_version: null, os: "iPad" } };
    const named: Device = { ...oldPhone, device_name: { browser: "Chrome", browser_version: "131", os: "Android" } };
    renderApp(places([thisSession(), firefox, safari], [laptop, named]), "/account");
    const section = await placesSection();
    const sessions = within(await section.findByRole("list", { name: "Sessions" })).getAllByRole("listitem");
    expect(within(sessions[1]!).getByText("Firefox 133 on Windows")).toHaveAttribute("title", agent);
    expect(within(sessions[1]!).getByRole("button", { name: /^End session Firefox 133 on Windows,/ })).toBeInTheDocument();
    expect(sessions[2]).toHaveTextContent("Safari on iPad");
    // Without a name, the raw User-Agent is all there is.
    expect(within(sessions[0]!).getByText("Mozilla/5.0 (X11; Linux x86_64)")).not.toHaveAttribute("title");
    const devices = within(section.getByRole("list", { name: "Known devices" })).getAllByRole("listitem");
    expect(devices[1]).toHaveTextContent("Chrome 131 on Android");
  });
});
