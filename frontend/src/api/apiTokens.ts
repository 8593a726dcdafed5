import { useCallback } from "react";
import { useAccountChanged } from "./account";
import { useApi } from "./context";
import { useApiMutation, useInvalidate } from "./mutation";
import { apiTokensQuery } from "./queries";
import type { Schemas } from "./types";

/** The token list, the account and its events (a token made or revoked is a security event). */
function useApiTokensChanged() {
  const { $api } = useApi();
  const invalidate = useInvalidate();
  const accountChanged = useAccountChanged();
  return useCallback(() => Promise.all([invalidate(apiTokensQuery($api)), accountChanged()]), [$api, invalidate, accountChanged]);
}

/** A privileged action; the answer carries the secret, shown once. */
export function useCreateApiToken() {
  const changed = useApiTokensChanged();
  return useApiMutation(
    (client, body: Schemas["CreateTokenRequest"]) => client.POST("/api/v1/account/api-tokens", { body }),
    { onSuccess: () => void changed() },
  );
}

/** Refetches after a failure too: a 404 means the list on screen is out of date. */
export function useRevokeApiToken() {
  const changed = useApiTokensChanged();
  return useApiMutation(
    (client, id: string) => client.DELETE("/api/v1/account/api-tokens/{id}", { params: { path: { id } } }),
    { onSettled: () => void changed() },
  );
}
