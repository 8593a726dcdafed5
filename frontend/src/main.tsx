import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApi } from "./api/client";
import { App } from "./App";
import { AppProviders, createQueryClient } from "./AppProviders";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html lacks #root");

createRoot(root).render(
  <StrictMode>
    <AppProviders api={createApi()} queryClient={createQueryClient()}>
      <App />
    </AppProviders>
  </StrictMode>,
);
