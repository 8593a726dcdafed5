import {
  browserSupportsWebAuthn,
  WebAuthnError,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/browser";

/**
 * The browser side of a passkey ceremony, through @simplewebauthn/browser (base64url JSON in and
 * out). The server's options arrive as `{ publicKey: {...} }`, the shape of
 * `navigator.credentials.create/get`'s argument; the library wants what is inside.
 */

/** How a ceremony in the browser ended without a credential. */
export type CeremonyFailure = "cancelled" | "already_registered" | "wrong_site" | "unsupported" | "failed";

export type Ceremony = { ok: true; credential: Record<string, never> } | { ok: false; failure: CeremonyFailure };

/** Whether this browser can use passkeys and security keys at all. */
export function webAuthnAvailable(): boolean {
  return browserSupportsWebAuthn();
}

type ServerOptions = Record<string, unknown>;

function publicKeyOf<T>(options: ServerOptions): T {
  return options.publicKey as T;
}

/** The credential as the API takes it: openapi.yaml types it as a free-form object. */
function asBody(credential: object): Record<string, never> {
  return credential as unknown as Record<string, never>;
}

/** Creates a passkey from the server's creation options. */
export async function createPasskey(options: ServerOptions): Promise<Ceremony> {
  if (!webAuthnAvailable()) return { ok: false, failure: "unsupported" };
  try {
    const optionsJSON = publicKeyOf<PublicKeyCredentialCreationOptionsJSON>(options);
    const { startRegistration } = await import("./webauthnDialogs");
    return { ok: true, credential: asBody(await startRegistration({ optionsJSON })) };
  } catch (error) {
    return { ok: false, failure: classify(error) };
  }
}

/** Signs the server's challenge with a passkey (second factor or passwordless). */
export async function signWithPasskey(options: ServerOptions): Promise<Ceremony> {
  if (!webAuthnAvailable()) return { ok: false, failure: "unsupported" };
  try {
    const optionsJSON = publicKeyOf<PublicKeyCredentialRequestOptionsJSON>(options);
    const { startAuthentication } = await import("./webauthnDialogs");
    return { ok: true, credential: asBody(await startAuthentication({ optionsJSON })) };
  } catch (error) {
    return { ok: false, failure: classify(error) };
  }
}

/**
 * The browser reports a closed dialog, a timeout and "no passkey here" all as `NotAllowedError`
 * (on purpose: a page must not learn which); none of them is a fault, so all read as cancelled.
 */
export function classify(error: unknown): CeremonyFailure {
  const code = error instanceof WebAuthnError ? error.code : undefined;
  const cause = error instanceof WebAuthnError && error.cause instanceof Error ? error.cause : error;
  const name = cause instanceof Error ? cause.name : "";
  if (code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED" || name === "InvalidStateError") return "already_registered";
  if (code === "ERROR_CEREMONY_ABORTED" || name === "NotAllowedError" || name === "AbortError") return "cancelled";
  if (code === "ERROR_INVALID_DOMAIN" || code === "ERROR_INVALID_RP_ID" || name === "SecurityError") return "wrong_site";
  if (name === "NotSupportedError") return "unsupported";
  return "failed";
}
