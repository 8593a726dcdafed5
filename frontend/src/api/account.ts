import { useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useApi } from "./context";
import { useApiMutation, useInvalidate } from "./mutation";
import { accountChangedReads, accountQuery } from "./queries";
import type { Schemas } from "./types";

/** The account changed on the server: refetch it, its security events and its passkeys. */
export function useAccountChanged() {
  const { $api } = useApi();
  const invalidate = useInvalidate();
  return useCallback(() => invalidate(...accountChangedReads($api)), [invalidate, $api]);
}

/** `PATCH /account` (the language): the account it answers goes straight into the cache. */
export function useUpdateAccount() {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  return useApiMutation(
    (client, body: Schemas["UpdateAccountRequest"]) => client.PATCH("/api/v1/account", { body }),
    { onSuccess: (account) => queryClient.setQueryData(accountQuery($api).queryKey, account) },
  );
}

export function useChangePassword() {
  return useApiMutation((client, body: Schemas["ChangePasswordRequest"]) =>
    client.POST("/api/v1/account/password", { body }),
  );
}
