import { useApiMutation } from "./mutation";
import type { Schemas } from "./types";

/** The mailed reset link: asking for it, the link's passkey options, and the new password. */

/** Answers `202` whether or not the account exists (no enumeration). */
export function useRequestPasswordReset() {
  return useApiMutation((client, body: Schemas["PasswordResetRequest"]) =>
    client.POST("/api/v1/auth/password-reset", { body }),
  );
}

/** The link's passkey options, or `409 no_passkeys` when the account has none. */
export function useResetPasskeyOptions() {
  return useApiMutation((client, token: string) =>
    client.POST("/api/v1/auth/password-reset/webauthn/options", { body: { token } }),
  );
}

/** The new password; with two-factor on, `403 second_factor_required` until a factor goes along. */
export function useConfirmPasswordReset() {
  return useApiMutation((client, body: Schemas["PasswordResetConfirmation"]) =>
    client.POST("/api/v1/auth/password-reset/confirm", { body }),
  );
}
