import { useState, type FormEvent } from "react";
import { useConfirmTwoFactor, useEnrollTwoFactor } from "../../api/twoFactor";
import type { Problem, Schemas } from "../../api/types";
import { ProblemAlert } from "../../components/Alert";
import { Field } from "../../components/Field";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { useT, type MessageId } from "../../i18n";
import { useFocusOnMount } from "../../hooks/useFocusOnMount";
import { usePrivileged } from "../../hooks/usePrivileged";
import { useSiteName } from "../../hooks/usePublicSettings";

type Props = {
  onEnabled: (recoveryCodes: string[]) => void;
  onStart: () => void;
  /** The box's words: the article's, or (two-factor already on with a passkey) adding an OTP application. */
  label?: MessageId;
};

/** Base32 secrets are easier to type by hand in groups of four. */
export function groupSecret(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(" ");
}

export function EnableTwoFactor({ onEnabled, onStart, label = "enable.checkbox" }: Props) {
  const t = useT();
  const [checked, setChecked] = useState(false);
  const [enrollment, setEnrollment] = useState<Schemas["EnrollResponse"] | null>(null);
  const confirm = useConfirmTwoFactor();
  const enroll = usePrivileged(useEnrollTwoFactor(), (proof) => proof, setEnrollment);

  function toggle(on: boolean) {
    setChecked(on);
    setEnrollment(null);
    confirm.reset();
    // Drops any answer still on its way: an unticked box never shows an older secret.
    enroll.cancel();
    if (on) {
      onStart();
      void enroll.start();
    }
  }

  function save(code: string) {
    if (confirm.isPending) return;
    confirm.mutate(code, { onSuccess: (data) => onEnabled(data.recovery_codes ?? []) });
  }

  return (
    <div>
      <div className="checkbox">
        <input
          id="enable-2fa"
          type="checkbox"
          checked={checked}
          // While the secret is on its way the box holds still: one tick, one enrolment.
          disabled={enroll.busy}
          aria-busy={enroll.busy}
          onChange={(e) => toggle(e.currentTarget.checked)}
        />
        <label htmlFor="enable-2fa">{t(label)}</label>
      </div>
      {enroll.reauthNeeded && <ReauthPrompt onSubmit={enroll.retry} onCancel={() => toggle(false)} />}
      <ProblemAlert problem={enroll.problem} />
      {checked && enrollment && (
        <SetUpSteps enrollment={enrollment} busy={confirm.isPending} problem={confirm.error} onSave={save} />
      )}
    </div>
  );
}

function SetUpSteps(props: {
  enrollment: Schemas["EnrollResponse"];
  busy: boolean;
  problem: Problem | null;
  onSave: (code: string) => void;
}) {
  const t = useT();
  const site = useSiteName();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [code, setCode] = useState("");
  const [copied, setCopied] = useState("");
  const { secret, qr_svg, otpauth_uri } = props.enrollment;

  function submit(event: FormEvent) {
    event.preventDefault();
    props.onSave(code.replace(/\s/g, ""));
  }

  async function copyKey() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(t("setup.key_copied"));
    } catch {
      setCopied(t("setup.key_copy_failed"));
    }
  }

  return (
    <form className="setup" onSubmit={submit} aria-labelledby="setup-heading">
      <h3 id="setup-heading" tabIndex={-1} ref={headingRef}>
        {t("setup.heading")}
      </h3>
      <ol className="steps">
        <li>
          <p>{t("setup.scan")}</p>
          <img
            className="qr"
            src={`data:image/svg+xml;utf8,${encodeURIComponent(qr_svg)}`}
            alt={site ? t("setup.qr_alt", { site }) : t("setup.qr_alt_unnamed")}
            width={200}
            height={200}
          />
          <p>
            {/* On the phone itself there is nothing to scan: the link opens the authenticator app. */}
            <a href={otpauth_uri}>{t("setup.open_app")}</a>
          </p>
          <p>
            {t("setup.manual")} <code className="secret">{groupSecret(secret)}</code>
          </p>
          <button type="button" onClick={() => void copyKey()}>
            {t("setup.copy_key")}
          </button>
          <p role="status" aria-live="polite">
            {copied}
          </p>
        </li>
        <li>
          <Field
            label={t("field.code")}
            hint={t("setup.code_hint")}
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            maxLength={8}
            required
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
          />
        </li>
      </ol>
      <ProblemAlert problem={props.problem} />
      <button type="submit" className="primary" disabled={props.busy}>
        {t("common.save_settings")}
      </button>
    </form>
  );
}
