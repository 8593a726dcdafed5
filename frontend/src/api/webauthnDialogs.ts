// The library's ceremony code, its own chunk: webauthn.ts fetches it when a ceremony starts, so
// pages that only ask whether passkeys work (the sign-in page) do not carry it.
export { startAuthentication, startRegistration } from "@simplewebauthn/browser";
