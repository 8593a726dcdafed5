import { useCallback } from "react";
import { useApi } from "./context";
import { useApiMutation, useInvalidate } from "./mutation";
import { customerSearchQuery, everyCustomerEvents } from "./queries";
import type { Schemas } from "./types";

type SupportAction = { customerId: string; body: Schemas["SupportActionRequest"] };

/** After an agent acted: every search (two-factor shows there) and every customer's events. */
function useCustomerChanged() {
  const { $api } = useApi();
  const invalidate = useInvalidate();
  return useCallback(() => invalidate(customerSearchQuery($api), everyCustomerEvents($api)), [$api, invalidate]);
}

/** Switches a customer's two-factor off (a reason and the agent's own second factor go along). */
export function useResetCustomerTwoFactor() {
  const changed = useCustomerChanged();
  return useApiMutation(
    (client, { customerId, body }: SupportAction) =>
      client.POST("/api/v1/support/customers/{id}/two-factor/reset", { params: { path: { id: customerId } }, body }),
    { onSuccess: () => void changed() },
  );
}

/** Lifts a customer's sign-in lock. */
export function useUnlockCustomer() {
  const changed = useCustomerChanged();
  return useApiMutation(
    (client, { customerId, body }: SupportAction) =>
      client.POST("/api/v1/support/customers/{id}/unlock", { params: { path: { id: customerId } }, body }),
    { onSuccess: () => void changed() },
  );
}

/** Requires a second factor of the customer, beyond the operator's rule. */
export function useRequireCustomerTwoFactor() {
  const changed = useCustomerChanged();
  return useApiMutation(
    (client, { customerId, body }: SupportAction) =>
      client.POST("/api/v1/support/customers/{id}/require-two-factor", { params: { path: { id: customerId } }, body }),
    { onSuccess: () => void changed() },
  );
}

/** Stops requiring it (the operator's rule may still require it). */
export function useLiftCustomerTwoFactorRequirement() {
  const changed = useCustomerChanged();
  return useApiMutation(
    (client, { customerId, body }: SupportAction) =>
      client.POST("/api/v1/support/customers/{id}/require-two-factor/lift", { params: { path: { id: customerId } }, body }),
    { onSuccess: () => void changed() },
  );
}
