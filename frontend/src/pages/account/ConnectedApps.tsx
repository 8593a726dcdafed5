import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useApi } from "../../api/context";
import { useRemoveConnectedApp } from "../../api/oidc";
import { toProblem } from "../../api/problems";
import { connectedAppsQuery } from "../../api/queries";
import type { Schemas } from "../../api/types";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ConnectedAppList } from "../../components/ConnectedAppList";
import { useT } from "../../i18n";

type ConnectedApp = Schemas["ConnectedApp"];

/**
 * Apps this account allowed to see it (signing in with this account elsewhere). Removing one ends
 * its access at once; it has to ask again.
 */
export function ConnectedApps() {
  const t = useT();
  const { $api } = useApi();
  const apps = useQuery(connectedAppsQuery($api));
  const removeApp = useRemoveConnectedApp();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [removing, setRemoving] = useState<ConnectedApp | null>(null);
  const [message, setMessage] = useState("");

  function remove(app: ConnectedApp) {
    setRemoving(null);
    setMessage("");
    removeApp.mutate(app.client_id, {
      onSuccess: () => setMessage(t("apps.removed", { name: app.name })),
      // The button that had focus is gone with the app: back to the section's heading.
      onSettled: () => headingRef.current?.focus(),
    });
  }

  return (
    <section className="panel" aria-labelledby="apps-heading">
      <h2 id="apps-heading" tabIndex={-1} ref={headingRef}>
        {t("apps.heading")}
      </h2>
      <p>{t("apps.explain")}</p>
      <StatusMessage>{message}</StatusMessage>
      <ProblemAlert problem={removeApp.error} />
      <ConnectedAppList
        apps={apps.data ?? null}
        problem={apps.error ? toProblem(apps.error) : null}
        none="apps.none"
        onRemove={(app) => {
          setMessage("");
          setRemoving(app);
        }}
      />
      {removing && (
        <ConfirmDialog
          title={t("apps.remove_title", { name: removing.name })}
          onCancel={() => setRemoving(null)}
          onConfirm={() => remove(removing)}
        >
          <p>{t("apps.remove_body", { name: removing.name })}</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
