import { useQuery } from "@tanstack/react-query";
import { useApi } from "../api/context";
import { toProblem } from "../api/problems";
import { accountEventsQuery, customerEventsQuery } from "../api/queries";

/**
 * The most recent security events of the signed-in account, or of a customer (`customerId`,
 * support staff only). Changes invalidate the query (see `useAccountChanged`), no version strings.
 */
export function useSecurityEvents(customerId: string | null) {
  const { $api } = useApi();
  const own = useQuery({ ...accountEventsQuery($api), enabled: customerId === null });
  const customer = useQuery({ ...customerEventsQuery($api, customerId ?? ""), enabled: customerId !== null });
  const query = customerId === null ? own : customer;
  return { events: query.data?.events ?? null, problem: query.error ? toProblem(query.error) : null };
}
