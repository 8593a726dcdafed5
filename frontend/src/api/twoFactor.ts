import { useAccountChanged } from "./account";
import { useApiMutation } from "./mutation";
import type { Proof } from "./types";

/**
 * A new TOTP secret, a privileged action. The prompt's proofs as enrolling takes them: the
 * password with two-factor off; with it on (adding an OTP application to passkeys) a recovery
 * code or a passkey's answer.
 */
export function useEnrollTwoFactor() {
  return useApiMutation((client, proof: Proof) =>
    client.POST("/api/v1/account/two-factor/enroll", {
      body: { password: proof.password, recovery_code: proof.recovery_code, webauthn: proof.webauthn },
    }),
  );
}

/** The first code from the OTP application switches two-factor on (recovery codes come back). */
export function useConfirmTwoFactor() {
  const accountChanged = useAccountChanged();
  return useApiMutation(
    (client, code: string) => client.POST("/api/v1/account/two-factor/confirm", { body: { code } }),
    { onSuccess: () => void accountChanged() },
  );
}

/** Switches two-factor off (passkeys go too): a privileged action. */
export function useDisableTwoFactor() {
  const accountChanged = useAccountChanged();
  return useApiMutation((client, proof: Proof) => client.POST("/api/v1/account/two-factor/disable", { body: proof }), {
    onSuccess: () => void accountChanged(),
  });
}

/** Ten new recovery codes, the old ones void: a privileged action. */
export function useRegenerateRecoveryCodes() {
  const accountChanged = useAccountChanged();
  return useApiMutation(
    (client, proof: Proof) => client.POST("/api/v1/account/two-factor/recovery-codes", { body: proof }),
    { onSuccess: () => void accountChanged() },
  );
}
