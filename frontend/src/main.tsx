import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApi } from "./api/client";
import { App } from "./App";
import { AppProviders, createQueryClient } from "./AppProviders";
import { browserLanguage, loadCatalogue } from "./i18n";
import "./styles.css";

// The language's catalogue is asked for before Preact starts, not after its first render; the
// provider shares this request and shows its failure, if any (hence nothing to handle here).
loadCatalogue(browserLanguage()).catch(() => undefined);

const root = document.getElementById("root");
if (!root) throw new Error("index.html lacks #root");

createRoot(root).render(
  <StrictMode>
    <AppProviders api={createApi()} queryClient={createQueryClient()}>
      <App />
    </AppProviders>
  </StrictMode>,
);
