import { toProblem } from "../api/problems";
import { useApi } from "./useApi";

/** How many events the pages show: enough to recognise recent sign-ins. */
const RECENT = 20;

/**
 * The most recent security events of the signed-in account, or of a customer (`customerId`,
 * support staff only). Changes invalidate the query (see `accountChanged`), no version strings.
 */
export function useSecurityEvents(customerId: string | null) {
  const { $api } = useApi();
  const own = $api.useQuery("get", "/api/v1/account/events", { params: { query: { limit: RECENT } } }, { enabled: customerId === null });
  const customer = $api.useQuery(
    "get",
    "/api/v1/support/customers/{id}/events",
    { params: { path: { id: customerId ?? "" }, query: { limit: RECENT } } },
    { enabled: customerId !== null },
  );
  const query = customerId === null ? own : customer;
  return { events: query.data?.events ?? null, problem: query.error ? toProblem(query.error) : null };
}
