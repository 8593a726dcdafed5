import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useIntl, type IntlShape } from "react-intl";
import { useApi } from "../../api/context";
import { useForgetDevice } from "../../api/devices";
import { toProblem } from "../../api/problems";
import { devicesQuery, sessionsQuery } from "../../api/queries";
import { useEndOtherSessions, useEndSession } from "../../api/sessions";
import type { Schemas } from "../../api/types";
import { DeviceName, useDeviceText } from "../../components/DeviceName";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { useT, type MessageId } from "../../i18n";

type Session = Schemas["SessionSummary"];
type Device = Schemas["DeviceSummary"];
type Change = "ended" | "others_ended" | "forgotten";

const DONE: Record<Change, MessageId> = {
  ended: "sessions.ended",
  others_ended: "sessions.others_ended",
  forgotten: "devices.forgotten",
};

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
  const { $api } = useApi();
  const sessions = useQuery(sessionsQuery($api));
  const devices = useQuery(devicesQuery($api));
  const changes = { ended: useEndSession(), others_ended: useEndOtherSessions(), forgotten: useForgetDevice() };
  // The three share one status line and one alert: the change made last speaks.
  const [last, setLast] = useState<Change | null>(null);
  const busy = Object.values(changes).some((change) => change.isPending);
  const problem = last ? changes[last].error : null;
  const message = last && changes[last].isSuccess ? t(DONE[last]) : "";

  function change(kind: Change, start: () => void) {
    if (busy) return;
    setLast(kind);
    start();
  }
  const endSession = (id: string) => change("ended", () => changes.ended.mutate(id));
  const endOthers = () => change("others_ended", () => changes.others_ended.mutate());
  const forgetDevice = (id: string) => change("forgotten", () => changes.forgotten.mutate(id));

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
              <SessionItem key={session.id} session={session} busy={busy} onEnd={() => endSession(session.id)} />
            ))}
          </ul>
          {others > 0 && (
            <div className="actions">
              <p>{t("sessions.end_others_explain")}</p>
              <button type="button" disabled={busy} onClick={endOthers}>
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
            <DeviceItem key={device.id} device={device} busy={busy} onForget={() => forgetDevice(device.id)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function SessionItem({ session, busy, onEnd }: { session: Session; busy: boolean; onEnd: () => void }) {
  const t = useT();
  const intl = useIntl();
  const deviceText = useDeviceText();
  const agent = deviceText(session.device_name, session.user_agent);
  const since = when(intl, session.created_at);
  return (
    <li>
      <span>
        <strong className="agent">
          <DeviceName name={session.device_name} userAgent={session.user_agent} />
        </strong>
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
  const deviceText = useDeviceText();
  const agent = deviceText(device.device_name, device.user_agent);
  const lastUsed = when(intl, device.last_used_at);
  const trusted = device.trusted_until && Date.parse(device.trusted_until) > Date.now() ? device.trusted_until : null;
  return (
    <li>
      <span>
        <strong className="agent">
          <DeviceName name={device.device_name} userAgent={device.user_agent} />
        </strong>
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
