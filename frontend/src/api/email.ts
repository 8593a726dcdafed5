import { useAccountChanged } from "./account";
import { useApiMutation } from "./mutation";
import type { Proof } from "./types";

/** A link to a new (or the unverified) address: a privileged action. */
export function useChangeEmail() {
  const accountChanged = useAccountChanged();
  return useApiMutation(
    (client, body: { email: string } & Proof) => client.POST("/api/v1/account/email", { body }),
    { onSuccess: () => void accountChanged() },
  );
}

/** The mailed link's token: single use, so the page sends it once. */
export function useVerifyEmail() {
  const accountChanged = useAccountChanged();
  return useApiMutation((client, token: string) => client.POST("/api/v1/auth/email/verify", { body: { token } }), {
    onSuccess: () => void accountChanged(),
  });
}
