import { useApi } from "./context";
import { useApiMutation, useInvalidate } from "./mutation";
import { accountEventsQuery, connectedAppsQuery } from "./queries";
import type { Schemas } from "./types";

type Approval = { requestId: string; body: Schemas["ApproveAuthorizationRequest"] };
type Denial = { requestId: string; body: Schemas["DenyAuthorizationRequest"] };

/**
 * Lets the app in (with the customer's consent and, when its sign-in must be stronger, a code or a
 * passkey's answer). The answer is where the browser goes next: the app, with a code or an error.
 */
export function useApproveAuthorizationRequest() {
  const { $api } = useApi();
  const invalidate = useInvalidate();
  return useApiMutation(
    (client, { requestId, body }: Approval) =>
      client.POST("/api/v1/oidc/authorization-requests/{id}/approve", { params: { path: { id: requestId } }, body }),
    // A new consent is listed under Apps with access and recorded as a security event.
    { onSuccess: () => void invalidate(connectedAppsQuery($api), accountEventsQuery($api)) },
  );
}

/** Sends the customer back to the app with a refusal (denied, or no session under prompt=none). */
export function useDenyAuthorizationRequest() {
  return useApiMutation((client, { requestId, body }: Denial) =>
    client.POST("/api/v1/oidc/authorization-requests/{id}/deny", { params: { path: { id: requestId } }, body }),
  );
}

/** Takes an app's access away: its list and the security events (the removal is one) are read again. */
export function useRemoveConnectedApp() {
  const { $api } = useApi();
  const invalidate = useInvalidate();
  return useApiMutation(
    (client, clientId: string) => client.DELETE("/api/v1/account/apps/{client_id}", { params: { path: { client_id: clientId } } }),
    // After a failure too: a 404 means the list on screen is out of date.
    { onSettled: () => void invalidate(connectedAppsQuery($api), accountEventsQuery($api)) },
  );
}
