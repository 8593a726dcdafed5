import { useRef, useState, type FormEvent } from "react";
import type { IntlShape } from "react-intl";
import { useChangeEmail } from "../../api/email";
import type { Account, Problem } from "../../api/types";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { Field } from "../../components/Field";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { useT } from "../../i18n";
import { problemMessage, retryAdvice } from "../../i18n/problems";
import { usePrivileged } from "../../hooks/usePrivileged";

/** A `429` here means too many links were mailed, not too many wrong guesses. */
function describeEmailProblem(intl: IntlShape, problem: Problem): string {
  if (problem.code === "too_many_attempts") {
    return intl.formatMessage({ id: "email.too_many" }, { advice: retryAdvice(intl, problem) });
  }
  return problemMessage(intl, problem);
}

/**
 * The account's address: verified or not (with a new link on request), a change waiting for its
 * link, and adding or changing it (a privileged action: old sign-ins confirm it's them first).
 */
export function EmailSettings({ account }: { account: Account }) {
  const t = useT();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [editing, setEditing] = useState(false);
  const [address, setAddress] = useState("");
  const [message, setMessage] = useState("");
  // The address of the attempt under way: a resend and a change share one privileged action.
  const requested = useRef("");

  const send = usePrivileged(
    useChangeEmail(),
    (proof) => ({ email: requested.current, ...proof }),
    () => {
      setEditing(false);
      setAddress("");
      setMessage(t("email.sent", { email: requested.current }));
      // The form that had focus is gone: the section's heading takes it, the status is read out.
      headingRef.current?.focus();
    },
  );

  function start(email: string) {
    if (send.busy) return;
    setMessage("");
    requested.current = email;
    void send.start();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    start(address.trim());
  }

  const { email, email_verified: verified, pending_email: pending } = account;

  return (
    <section className="panel" aria-labelledby="email-heading">
      <h2 id="email-heading" tabIndex={-1} ref={headingRef}>
        {t("email.heading")}
      </h2>
      {email ? (
        <p className="email-line">
          <span className="email-address">{email}</span>{" "}
          <span className={verified ? "badge badge-ok" : "badge badge-warning"}>
            {t(verified ? "email.verified" : "email.not_verified")}
          </span>
        </p>
      ) : (
        <p>{t("email.none")}</p>
      )}
      {email && !verified && (
        <>
          <p>{t("email.unverified_explain")}</p>
          {!send.reauthNeeded && (
            <button type="button" disabled={send.busy} onClick={() => start(email)}>
              {t("email.resend")}
            </button>
          )}
        </>
      )}
      {pending && pending !== email && <p className="hint-box">{t("email.pending", { email: pending })}</p>}
      <StatusMessage>{message}</StatusMessage>
      <ProblemAlert problem={send.problem} describe={describeEmailProblem} />
      {send.reauthNeeded ? (
        <ReauthPrompt onSubmit={send.retry} onCancel={send.cancel} />
      ) : editing ? (
        <form onSubmit={submit} aria-labelledby="email-form-heading">
          <h3 id="email-form-heading">{t(email ? "email.change" : "email.add")}</h3>
          <Field
            label={t("email.new")}
            hint={t("email.new_hint")}
            name="email"
            type="email"
            autoComplete="email"
            required
            maxLength={254}
            value={address}
            onChange={(e) => setAddress(e.currentTarget.value)}
            autoFocus
          />
          <div className="actions">
            <button type="submit" className="primary" disabled={send.busy}>
              {t("email.submit")}
            </button>
            <button
              type="button"
              onClick={() => {
                setEditing(false);
                setAddress("");
                send.setProblem(null);
              }}
            >
              {t("common.cancel")}
            </button>
          </div>
        </form>
      ) : (
        <div className="actions">
          <button
            type="button"
            onClick={() => {
              setMessage("");
              send.setProblem(null);
              setEditing(true);
            }}
          >
            {t(email ? "email.change" : "email.add")}
          </button>
        </div>
      )}
    </section>
  );
}
