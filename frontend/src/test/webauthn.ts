import * as browser from "@simplewebauthn/browser";
import { beforeEach, vi } from "vitest";

// The browser's side of passkeys for component tests. jsdom has no WebAuthn: the browser's dialog
// (navigator.credentials through @simplewebauthn/browser) is played by these fakes, and the
// library's own error type stays real. The server's side is faked at the fetch layer as
// everywhere else (fakeServer.tsx). Import this module first in a test file.
vi.mock("@simplewebauthn/browser", async (importOriginal) => {
  const real = await importOriginal<typeof import("@simplewebauthn/browser")>();
  return { ...real, browserSupportsWebAuthn: vi.fn(), startRegistration: vi.fn(), startAuthentication: vi.fn() };
});

/** The faked library: a test changes what the browser supports or what its dialog answers. */
export const webauthn = vi.mocked(browser);

/** What the browser's dialog answers to request options (a passkey's signature). */
export const assertion = {
  id: "Y3JlZA",
  rawId: "Y3JlZA",
  type: "public-key",
  response: { clientDataJSON: "e30", authenticatorData: "YXV0aA", signature: "c2ln", userHandle: "dXNlcg" },
  clientExtensionResults: {},
} as unknown as browser.AuthenticationResponseJSON;

/** What the browser's dialog answers to creation options (a new passkey). */
export const credential = {
  id: "Y3JlZA",
  rawId: "Y3JlZA",
  type: "public-key",
  response: { clientDataJSON: "e30", attestationObject: "o2Nm" },
  clientExtensionResults: {},
} as unknown as browser.RegistrationResponseJSON;

/** The dialog closed, timed out, or had no passkey: the browser does not say which. */
export function notAllowed() {
  return new browser.WebAuthnError({
    message: "The operation either timed out or was not allowed.",
    code: "ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY",
    cause: Object.assign(new Error("The operation either timed out or was not allowed."), { name: "NotAllowedError" }),
  });
}

// Each test starts in a browser that can use passkeys, whose dialog answers at once.
beforeEach(() => {
  webauthn.browserSupportsWebAuthn.mockReset().mockReturnValue(true);
  webauthn.startAuthentication.mockReset().mockResolvedValue(assertion);
  webauthn.startRegistration.mockReset().mockResolvedValue(credential);
});
