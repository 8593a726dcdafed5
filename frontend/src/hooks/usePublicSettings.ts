import { useEffect, useState } from "react";
import type { Schemas } from "../api/client";
import { useApi } from "./useApi";

/** The server's public settings (e.g. whether sign-up is open); `null` until known. */
export function usePublicSettings(): Schemas["PublicSettings"] | null {
  const { client } = useApi();
  const [settings, setSettings] = useState<Schemas["PublicSettings"] | null>(null);
  useEffect(() => {
    let current = true;
    void client.GET("/api/v1/config").then(({ data }) => {
      if (current && data) setSettings(data);
    });
    return () => {
      current = false;
    };
  }, [client]);
  return settings;
}
