import { useRef, useState, type RefObject } from "react";
import { Link, useSearchParams } from "react-router";
import { useApi } from "../api/context";
import { useReportNotMe } from "../api/notMe";
import { settle } from "../api/problems";
import type { Problem, Schemas } from "../api/types";
import { ErrorAlert, ProblemAlert, StatusMessage } from "../components/Alert";
import { SupportContact } from "../components/SupportContact";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useSession } from "../hooks/useSession";
import { useT } from "../i18n";

type Report = Schemas["NotMeResponse"];

/**
 * Where a notice's "this wasn't me" link lands. Opening it does nothing (mail scanners open
 * links): the page says what confirming does, and only its button sends the report. Then it says
 * what ended and what to do next: reset the password through the verified address.
 */
export function NotMePage() {
  const t = useT();
  const { session } = useApi();
  const { state } = useSession();
  const report = useReportNotMe();
  const [search] = useSearchParams();
  const token = search.get("token") ?? "";
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const doneHeadingRef = useRef<HTMLHeadingElement>(null);
  const [done, setDone] = useState<Report | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function confirm() {
    if (report.isPending) return;
    setProblem(null);
    const result = await settle(report.mutateAsync(token));
    if (!result.ok) return setProblem(result.problem);
    setDone(result.data);
    // This browser's session ended with every other one (a sign-in still loading too).
    if (state.status !== "signed-out") session.expire();
    requestAnimationFrame(() => doneHeadingRef.current?.focus());
  }

  if (done) return <Reported report={done} headingRef={doneHeadingRef} />;

  const invalid = !token || problem?.code === "invalid_token";
  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("not_me.heading")}
      </h1>
      {invalid ? (
        <>
          <ErrorAlert>{t(token ? "not_me.invalid" : "not_me.no_token")}</ErrorAlert>
          <p>
            <Link to="/forgot-password">{t("not_me.reset_link")}</Link>
          </p>
        </>
      ) : (
        <>
          <p>{t("not_me.explain")}</p>
          <ul>
            <li>{t("not_me.ends_sessions")}</li>
            <li>{t("not_me.ends_api_tokens")}</li>
            <li>{t("not_me.ends_devices")}</li>
            <li>{t("not_me.ends_email_change")}</li>
            <li>{t("not_me.blocks_password")}</li>
          </ul>
          <p>{t("not_me.passkeys_stay")}</p>
          <StatusMessage>{report.isPending && t("not_me.working")}</StatusMessage>
          <ProblemAlert problem={problem} />
          <div className="actions">
            <button type="button" className="primary" onClick={() => void confirm()} disabled={report.isPending}>
              {t("not_me.confirm")}
            </button>
          </div>
          <p>
            <Link to="/account">{t("not_me.was_me")}</Link>
          </p>
        </>
      )}
    </section>
  );
}

/** What the report ended, and the way back in. */
function Reported({ report, headingRef }: { report: Report; headingRef: RefObject<HTMLHeadingElement | null> }) {
  const t = useT();
  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("not_me.done_heading")}
      </h1>
      <StatusMessage>{t("not_me.done")}</StatusMessage>
      <ul aria-label={t("not_me.done_list")}>
        <li>{t("not_me.done_sessions", { count: report.sessions_ended })}</li>
        <li>{t("not_me.done_api_tokens", { count: report.api_tokens_revoked })}</li>
        <li>{t("not_me.done_devices", { count: report.devices_forgotten })}</li>
        {report.email_change_cancelled && <li>{t("not_me.done_email_change")}</li>}
        {report.password_sign_in_blocked && <li>{t("not_me.done_blocked")}</li>}
      </ul>
      <h2>{t("not_me.next_heading")}</h2>
      {report.can_reset_by_email ? (
        <>
          <p>{t("not_me.next_reset")}</p>
          <p>
            <Link to="/forgot-password">{t("not_me.reset_link")}</Link>
          </p>
        </>
      ) : (
        <>
          <p>{t("not_me.next_no_email")}</p>
          <SupportContact />
        </>
      )}
      {report.passkeys > 0 && <p>{t("not_me.next_passkeys", { count: report.passkeys })}</p>}
    </section>
  );
}
