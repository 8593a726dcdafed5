import { useQuery } from "@tanstack/react-query";
import { useApi } from "../api/context";
import { publicSettingsQuery } from "../api/queries";
import type { Schemas } from "../api/types";

/** The server's public settings (sign-up open, support contact, the brand); `null` until known. */
export function usePublicSettings(): Schemas["PublicSettings"] | null {
  const { $api } = useApi();
  const { data } = useQuery(publicSettingsQuery($api));
  return data ?? null;
}

/**
 * The hosting company's name as customers see it: in the header and page titles, and as the
 * entry their OTP application shows (the server makes it the otpauth issuer). `null` until known.
 */
export function useSiteName(): string | null {
  return usePublicSettings()?.site_name ?? null;
}
