import { useApiMutation } from "./mutation";
import type { Schemas } from "./types";

/** Sign-up, sign-in (password, second factor, passkey alone) and sign-out. */

export function useRegister() {
  return useApiMutation((client, body: Schemas["RegisterRequest"]) => client.POST("/api/v1/auth/register", { body }));
}

/** The password step: tokens, or `otp_required` with the challenge for the second step. */
export function useLogin() {
  return useApiMutation((client, body: Schemas["LoginRequest"]) => client.POST("/api/v1/auth/login", { body }));
}

/** The second step: a code, a recovery code or a passkey's answer for the challenge. */
export function useSecondFactor() {
  return useApiMutation((client, body: Schemas["OtpRequest"]) => client.POST("/api/v1/auth/otp", { body }));
}

/** Passkey options for the second step's challenge. */
export function useSecondFactorPasskeyOptions() {
  return useApiMutation((client, challenge_token: string) =>
    client.POST("/api/v1/auth/webauthn/options", { body: { challenge_token } }),
  );
}

/** Options and a sealed state token for signing in with a passkey alone. */
export function usePasswordlessOptions() {
  return useApiMutation((client) => client.POST("/api/v1/auth/passkey/options", {}));
}

export function usePasswordlessSignIn() {
  return useApiMutation((client, body: Schemas["PasswordlessRequest"]) => client.POST("/api/v1/auth/passkey", { body }));
}

/**
 * The header lets the server accept a logout by cookie alone (its CSRF check), e.g. when the
 * access token is gone; with a token it changes nothing.
 */
export function useLogout() {
  return useApiMutation((client) =>
    client.POST("/api/v1/auth/logout", { headers: { "X-Requested-With": "XMLHttpRequest" } }),
  );
}
