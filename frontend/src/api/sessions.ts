import { useCallback } from "react";
import { useAccountChanged } from "./account";
import { useApi } from "./context";
import { useApiMutation, useInvalidate } from "./mutation";
import { apiTokensQuery, devicesQuery, sessionsQuery } from "./queries";

/**
 * After a change to where the account is signed in, also after a failure (a 404 means the list on
 * screen is out of date): the sessions, the devices, the API tokens ("sign out everywhere" ends
 * them too, the credential-change table), and the account with its events.
 */
export function useSignedInPlacesChanged() {
  const { $api } = useApi();
  const invalidate = useInvalidate();
  const accountChanged = useAccountChanged();
  return useCallback(
    () => Promise.all([invalidate(sessionsQuery($api), devicesQuery($api), apiTokensQuery($api)), accountChanged()]),
    [$api, invalidate, accountChanged],
  );
}

export function useEndSession() {
  const changed = useSignedInPlacesChanged();
  return useApiMutation(
    (client, id: string) => client.DELETE("/api/v1/account/sessions/{id}", { params: { path: { id } } }),
    { onSettled: () => void changed() },
  );
}

/** "Sign out everywhere else": every session but this one. */
export function useEndOtherSessions() {
  const changed = useSignedInPlacesChanged();
  return useApiMutation((client) => client.POST("/api/v1/account/sessions/revoke-others"), {
    onSettled: () => void changed(),
  });
}
