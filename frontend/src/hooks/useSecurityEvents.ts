import { useEffect, useState } from "react";
import type { Problem, Schemas } from "../api/client";
import { run } from "../api/problems";
import { useApi } from "./useApi";

/** How many events the pages show: enough to recognise recent sign-ins. */
const RECENT = 20;

/**
 * The most recent security events of the signed-in account, or of a customer (`customerId`,
 * support staff only). Loads again whenever `version` changes.
 */
export function useSecurityEvents(customerId: string | null, version: string | number) {
  const { client } = useApi();
  const [events, setEvents] = useState<Schemas["SecurityEvent"][] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  useEffect(() => {
    let cancelled = false;
    async function load() {
      const result =
        customerId === null
          ? await run(client.GET("/api/v1/account/events", { params: { query: { limit: RECENT } } }))
          : await run(
              client.GET("/api/v1/support/customers/{id}/events", {
                params: { path: { id: customerId }, query: { limit: RECENT } },
              }),
            );
      if (cancelled) return;
      if (result.ok) {
        setEvents(result.data.events);
        setProblem(null);
      } else {
        setProblem(result.problem);
      }
    }
    void load();
    return () => {
      cancelled = true;
    };
  }, [client, customerId, version]);

  return { events, problem };
}
