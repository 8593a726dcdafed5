import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApi } from "./api/client";
import { App } from "./App";
import { ApiProvider } from "./hooks/useApi";
import { RouterProvider } from "./hooks/useRouter";
import { SessionProvider } from "./hooks/useSession";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html lacks #root");

createRoot(root).render(
  <StrictMode>
    <ApiProvider api={createApi()}>
      <RouterProvider>
        <SessionProvider>
          <App />
        </SessionProvider>
      </RouterProvider>
    </ApiProvider>
  </StrictMode>,
);
