import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { BrowserRouter } from "react-router";
import { ApiProvider, type ApiHandle } from "./api/context";
import type { Language } from "./api/types";
import { SessionProvider } from "./hooks/useSession";
import { LocaleProvider } from "./i18n";

/** Failures are shown with a retry button rather than retried behind the customer's back. */
export function createQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });
}

type AppProvidersProps = {
  api: ApiHandle;
  queryClient: QueryClient;
  /** The language to start in; by default the browser's. */
  language?: Language;
  children: ReactNode;
};

/** Everything the app runs inside, the same in the browser (main.tsx) and in component tests. */
export function AppProviders({ api, queryClient, language, children }: AppProvidersProps) {
  return (
    <QueryClientProvider client={queryClient}>
      <ApiProvider api={api}>
        <LocaleProvider initial={language}>
          <BrowserRouter>
            <SessionProvider>{children}</SessionProvider>
          </BrowserRouter>
        </LocaleProvider>
      </ApiProvider>
    </QueryClientProvider>
  );
}
