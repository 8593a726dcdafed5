import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { createApi } from "./api/client";
import { App } from "./App";
import { ApiProvider } from "./api/context";
import { SessionProvider } from "./hooks/useSession";
import { LocaleProvider } from "./i18n";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html lacks #root");

// Failures are shown with a retry button rather than retried behind the customer's back.
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ApiProvider api={createApi()}>
        <LocaleProvider>
          <BrowserRouter>
            <SessionProvider>
              <App />
            </SessionProvider>
          </BrowserRouter>
        </LocaleProvider>
      </ApiProvider>
    </QueryClientProvider>
  </StrictMode>,
);
