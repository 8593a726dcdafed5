import type { Schemas } from "../api/types";
import { useApi } from "./useApi";

/** The server's public settings (sign-up open, support contact); `null` until known. */
export function usePublicSettings(): Schemas["PublicSettings"] | null {
  const { $api } = useApi();
  // The settings change only when the operator restarts the server: fetch them once.
  const { data } = $api.useQuery("get", "/api/v1/config", {}, { staleTime: Infinity, retry: 1 });
  return data ?? null;
}
