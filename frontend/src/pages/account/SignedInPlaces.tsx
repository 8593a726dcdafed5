import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useIntl, type IntlShape } from "react-intl";
import { run, toProblem } from "../../api/problems";
import type { Problem, Schemas } from "../../api/types";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { useT, type MessageId } from "../../i18n";
import { useApi } from "../../hooks/useApi";
import { useSession } from "../../hooks/useSession";

type Session = Schemas["SessionSummary"];
type Device = Schemas["DeviceSummary"];

/**
 * How a sign-in was made (RFC 8176 `amr`), in words, for the combinations the server makes;
 * keyed by the values sorted, so the order the server lists them in does not matter.
 */
const AMR_WORDS: Record<string, MessageId> = {
  pwd: "amr.pwd",
  "otp pwd": "amr.pwd_otp",
  "mfa pwd": "amr.pwd_mfa",
  "hwk pwd": "amr.pwd_hwk",
  hwk: "amr.hwk",
  "hwk user": "amr.hwk",
};

export function amrInWords(intl: IntlShape, amr: string[]): string {
  const id = AMR_WORDS[[...amr].sort().join(" ")];
  return id ? intl.formatMessage({ id }) : amr.join(" + ");
}

function when(intl: IntlShape, at: string): string {
  return intl.formatDate(at, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * "Where you're signed in": live sessions (end one, or all but this one) and known devices
 * (forget one). After a change the lists, the account and its events are fetched again.
 */
export function SignedInPlaces() {
  const t = useT();
  const { client, $api } = useApi();
  const { accountChanged } = useSession();
  const queryClient = useQueryClient();
  const sessions = $api.useQuery("get", "/api/v1/account/sessions");
  const devices = $api.useQuery("get", "/api/v1/account/devices");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  async function change(call: () => Promise<{ ok: boolean; problem?: Problem }>, done: MessageId) {
    if (busy) return;
    setBusy(true);
    setProblem(null);
    setMessage("");
    const result = await call();
    setBusy(false);
    if (result.ok) setMessage(t(done));
    else setProblem(result.problem ?? null);
    // Also after a failure: a 404 means the list on screen is out of date.
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: ["get", "/api/v1/account/sessions"] }),
      queryClient.invalidateQueries({ queryKey: ["get", "/api/v1/account/devices"] }),
      // "Sign out everywhere" ends API tokens too (the credential-change table).
      queryClient.invalidateQueries({ queryKey: ["get", "/api/v1/account/api-tokens"] }),
      accountChanged(),
    ]);
  }

  const endSession = (id: string) =>
    change(() => run(client.DELETE("/api/v1/account/sessions/{id}", { params: { path: { id } } })), "sessions.ended");
  const endOthers = () =>
    change(() => run(client.POST("/api/v1/account/sessions/revoke-others")), "sessions.others_ended");
  const forgetDevice = (id: string) =>
    change(() => run(client.DELETE("/api/v1/account/devices/{id}", { params: { path: { id } } })), "devices.forgotten");

  const sessionList = sessions.data?.sessions;
  const others = sessionList?.filter((s) => !s.current).length ?? 0;

  return (
    <section className="panel" aria-labelledby="places-heading">
      <h2 id="places-heading">{t("sessions.heading")}</h2>
      <StatusMessage>{message}</StatusMessage>
      <ProblemAlert problem={problem} />

      <ProblemAlert problem={sessions.error ? toProblem(sessions.error) : null} />
      {!sessionList && !sessions.error && <p>{t("common.loading")}</p>}
      {sessionList && (
        <>
          <p>{t("sessions.summary", { count: sessionList.length })}</p>
          <ul className="places" aria-label={t("sessions.list_label")}>
            {sessionList.map((session) => (
              <SessionItem key={session.id} session={session} busy={busy} onEnd={() => void endSession(session.id)} />
            ))}
          </ul>
          {others > 0 && (
            <div className="actions">
              <p>{t("sessions.end_others_explain")}</p>
              <button type="button" disabled={busy} onClick={() => void endOthers()}>
                {t("sessions.end_others")}
              </button>
            </div>
          )}
        </>
      )}

      <h3 id="devices-heading">{t("devices.heading")}</h3>
      <p>{t("devices.explain")}</p>
      <ProblemAlert problem={devices.error ? toProblem(devices.error) : null} />
      {!devices.data && !devices.error && <p>{t("common.loading")}</p>}
      {devices.data?.devices.length === 0 && <p>{t("devices.none")}</p>}
      {devices.data && devices.data.devices.length > 0 && (
        <ul className="places" aria-labelledby="devices-heading">
          {devices.data.devices.map((device) => (
            <DeviceItem key={device.id} device={device} busy={busy} onForget={() => void forgetDevice(device.id)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function SessionItem({ session, busy, onEnd }: { session: Session; busy: boolean; onEnd: () => void }) {
  const t = useT();
  const intl = useIntl();
  const agent = session.user_agent ?? t("sessions.unknown_agent");
  const since = when(intl, session.created_at);
  return (
    <li>
      <span>
        <strong className="agent">{agent}</strong>
        {session.current && <span className="badge badge-ok">{t("sessions.this_session")}</span>}
      </span>
      <span>{amrInWords(intl, session.amr)}</span>
      <span className="muted">
        {t("sessions.signed_in", { date: since })}
        {session.last_used_at && <> · {t("sessions.last_used", { date: when(intl, session.last_used_at) })}</>}
        {session.ip && <> · {t("sessions.ip", { ip: session.ip })}</>}
      </span>
      {!session.current && (
        <button type="button" disabled={busy} onClick={onEnd} aria-label={t("sessions.end_label", { agent, date: since })}>
          {t("sessions.end")}
        </button>
      )}
    </li>
  );
}

function DeviceItem({ device, busy, onForget }: { device: Device; busy: boolean; onForget: () => void }) {
  const t = useT();
  const intl = useIntl();
  const agent = device.user_agent ?? t("sessions.unknown_agent");
  const lastUsed = when(intl, device.last_used_at);
  const trusted = device.trusted_until && Date.parse(device.trusted_until) > Date.now() ? device.trusted_until : null;
  return (
    <li>
      <span>
        <strong className="agent">{agent}</strong>
        {device.current && <span className="badge badge-ok">{t("devices.this_device")}</span>}
      </span>
      <span>
        {trusted ? t("devices.trusted_until", { date: when(intl, trusted) }) : t("devices.not_trusted")}
      </span>
      <span className="muted">
        {t("devices.first_used", { date: when(intl, device.created_at) })} · {t("sessions.last_used", { date: lastUsed })}
      </span>
      <button type="button" disabled={busy} onClick={onForget} aria-label={t("devices.forget_label", { agent, date: lastUsed })}>
        {t("devices.forget")}
      </button>
    </li>
  );
}
