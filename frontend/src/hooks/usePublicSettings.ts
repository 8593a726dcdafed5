import { useQuery } from "@tanstack/react-query";
import { useApi } from "../api/context";
import { publicSettingsQuery } from "../api/queries";
import type { Schemas } from "../api/types";

/** The server's public settings (sign-up open, support contact); `null` until known. */
export function usePublicSettings(): Schemas["PublicSettings"] | null {
  const { $api } = useApi();
  const { data } = useQuery(publicSettingsQuery($api));
  return data ?? null;
}
