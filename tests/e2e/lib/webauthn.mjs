// Chromium's virtual WebAuthn authenticator (the DevTools protocol's WebAuthn domain).

/** A platform authenticator that verifies the user and answers at once. */
export const AUTHENTICATOR = {
  protocol: "ctap2",
  transport: "internal",
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
};

/** Gives `page` a virtual passkey authenticator; answers the CDP session and its id. */
export async function addAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", { options: AUTHENTICATOR });
  return { cdp, authenticatorId };
}
