import { useCallback } from "react";
import { useAccountChanged } from "./account";
import { useApi } from "./context";
import { useApiMutation, useInvalidate } from "./mutation";
import { passkeysQuery, sessionsQuery } from "./queries";
import type { Proof, Schemas } from "./types";

/** The passkey list, the account (its second factors) and its events. */
function usePasskeysChanged() {
  const { $api } = useApi();
  const invalidate = useInvalidate();
  const accountChanged = useAccountChanged();
  return useCallback(() => Promise.all([invalidate(passkeysQuery($api)), accountChanged()]), [$api, invalidate, accountChanged]);
}

/** Creation options for a new passkey named `name`: a privileged action. */
export function useStartPasskeyRegistration() {
  return useApiMutation((client, body: Schemas["StartRegistrationRequest"]) =>
    client.POST("/api/v1/account/passkeys/register/start", { body }),
  );
}

/** The browser's new credential; the first passkey of an account brings recovery codes. */
export function useFinishPasskeyRegistration() {
  const changed = usePasskeysChanged();
  return useApiMutation(
    (client, credential: Schemas["FinishRegistrationRequest"]["credential"]) =>
      client.POST("/api/v1/account/passkeys/register/finish", { body: { credential } }),
    { onSuccess: () => void changed() },
  );
}

export function useRenamePasskey() {
  const changed = usePasskeysChanged();
  return useApiMutation(
    (client, { id, name }: { id: string; name: string }) =>
      client.PATCH("/api/v1/account/passkeys/{id}", { params: { path: { id } }, body: { name } }),
    { onSuccess: () => void changed() },
  );
}

/** A privileged action; the server signs out every other session when a passkey goes. */
export function useRemovePasskey() {
  const { $api } = useApi();
  const invalidate = useInvalidate();
  const changed = usePasskeysChanged();
  return useApiMutation(
    (client, { id, proof }: { id: string; proof: Proof }) =>
      client.DELETE("/api/v1/account/passkeys/{id}", {
        params: { path: { id } },
        body: Object.keys(proof).length > 0 ? proof : undefined,
      }),
    { onSuccess: () => void Promise.all([changed(), invalidate(sessionsQuery($api))]) },
  );
}

/** Request options for this session's passkeys, to prove it's them for a privileged action. */
export function usePasskeyProofOptions() {
  return useApiMutation((client) => client.POST("/api/v1/account/webauthn/options", {}));
}
