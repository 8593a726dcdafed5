import { createContext, useContext, type ReactNode } from "react";
import type { createApi } from "../api/client";

export type ApiHandle = ReturnType<typeof createApi>;

const ApiContext = createContext<ApiHandle | null>(null);

export function ApiProvider({ api, children }: { api: ApiHandle; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

export function useApi(): ApiHandle {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi must be used inside <ApiProvider>");
  return api;
}
