import { createContext, useContext, type ReactNode } from "react";
import type { createApi } from "./client";

/** The API of this app: the openapi-fetch client, the in-memory session and the query hooks. */
export type ApiHandle = ReturnType<typeof createApi>;
/** openapi-react-query's hooks over the generated `paths`; `queryOptions` builds the reads. */
export type QueryHooks = ApiHandle["$api"];

const ApiContext = createContext<ApiHandle | null>(null);

export function ApiProvider({ api, children }: { api: ApiHandle; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

export function useApi(): ApiHandle {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi must be used inside <ApiProvider>");
  return api;
}
