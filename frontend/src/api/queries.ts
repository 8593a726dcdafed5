import type { QueryKey } from "@tanstack/react-query";
import type { QueryHooks } from "./context";

/**
 * Every read of the SPA as TanStack query options: `useQuery(sessionsQuery($api))` shows it, and
 * a write invalidates it through the same options' key. Reads live apart from the writes
 * (api/sessions.ts, api/passkeys.ts, ...) because writes refetch each other's reads (ending a
 * session refetches the passkeys, removing a passkey the sessions): this module imports none of
 * them, so no write module imports one that imports it back.
 */

/** A read as `queryOptions` gives it: its key is what invalidation matches. */
export type Read = { queryKey: QueryKey };

/** How many security events the pages show: enough to recognise recent sign-ins. */
const RECENT_EVENTS = 20;

export const accountQuery = ($api: QueryHooks) => $api.queryOptions("get", "/api/v1/account", {});

/** Sign-up open, support contact, the brand: they change only when the operator restarts the server. */
export const publicSettingsQuery = ($api: QueryHooks) =>
  $api.queryOptions("get", "/api/v1/config", {}, { staleTime: Infinity, retry: 1 });

export const accountEventsQuery = ($api: QueryHooks) =>
  $api.queryOptions("get", "/api/v1/account/events", { params: { query: { limit: RECENT_EVENTS } } });

export const sessionsQuery = ($api: QueryHooks) => $api.queryOptions("get", "/api/v1/account/sessions");

export const devicesQuery = ($api: QueryHooks) => $api.queryOptions("get", "/api/v1/account/devices");

export const apiTokensQuery = ($api: QueryHooks) => $api.queryOptions("get", "/api/v1/account/api-tokens");

export const passkeysQuery = ($api: QueryHooks) => $api.queryOptions("get", "/api/v1/account/passkeys");

/** Support's customer search; without `text`, every search (for invalidation). */
export const customerSearchQuery = ($api: QueryHooks, text?: string) =>
  text === undefined
    ? $api.queryOptions("get", "/api/v1/support/customers")
    : $api.queryOptions("get", "/api/v1/support/customers", { params: { query: { query: text } } });

export const customerEventsQuery = ($api: QueryHooks, customerId: string) =>
  $api.queryOptions("get", "/api/v1/support/customers/{id}/events", {
    params: { path: { id: customerId }, query: { limit: RECENT_EVENTS } },
  });

/** The events of every customer: a key's first two parts (method, path) name the operation. */
export const everyCustomerEvents = ($api: QueryHooks): Read => ({
  queryKey: customerEventsQuery($api, "").queryKey.slice(0, 2),
});

/**
 * What a change of the account refetches: the account, its security events, and its passkeys
 * (switching two-factor off removes them).
 */
export const accountChangedReads = ($api: QueryHooks): Read[] => [
  accountQuery($api),
  accountEventsQuery($api),
  passkeysQuery($api),
];

/**
 * An app's sign-in request as the server sees it for this caller (signed in or not): read again
 * whenever the page shows it for another caller.
 */
export const authorizationRequestQuery = ($api: QueryHooks, requestId: string) =>
  $api.queryOptions("get", "/api/v1/oidc/authorization-requests/{id}", { params: { path: { id: requestId } } });

/** The apps this account let see it (OpenID Connect clients with a consent). */
export const connectedAppsQuery = ($api: QueryHooks) => $api.queryOptions("get", "/api/v1/account/apps");

export const customerAppsQuery = ($api: QueryHooks, customerId: string) =>
  $api.queryOptions("get", "/api/v1/support/customers/{id}/apps", { params: { path: { id: customerId } } });
