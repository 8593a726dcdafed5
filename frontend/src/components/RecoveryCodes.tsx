import { useState } from "react";
import { useIntl } from "react-intl";
import { useT, type MessageId } from "../i18n";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useSiteName } from "../hooks/usePublicSettings";

type RecoveryCodesProps = {
  codes: string[];
  username: string;
  onAcknowledged: () => void;
  /** What the codes stand in for: the six-digit code, or (codes of a first passkey) the passkey. */
  explain?: MessageId;
};

/** `<site>-recovery-codes-<username>-<YYYY-MM-DD>.txt`: several accounts' files stay apart. */
export function recoveryCodesFileName(site: string, username: string, date: Date): string {
  const day = [date.getFullYear(), date.getMonth() + 1, date.getDate()].map((n) => String(n).padStart(2, "0")).join("-");
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, "_");
  return `${safe(site)}-recovery-codes-${safe(username)}-${day}.txt`;
}

/** Shows fresh recovery codes once, with copy and download, until the customer says they are saved. */
export function RecoveryCodes({ codes, username, onAcknowledged, explain = "codes.explain" }: RecoveryCodesProps) {
  const t = useT();
  const intl = useIntl();
  const siteName = useSiteName();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState<string>("");
  const text = codes.join("\n") + "\n";

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(t("codes.copied"));
    } catch {
      setCopied(t("codes.copy_failed"));
    }
  }

  function download() {
    const now = new Date();
    // The name the customer knows the site by (its OTP entry says the same); the host if unknown.
    const site = siteName ?? (window.location.hostname || "custadmin");
    const header = t("codes.file_header", { site, username, date: intl.formatDate(now, { dateStyle: "long" }) });
    const url = URL.createObjectURL(new Blob([`${header}\n\n${text}`], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = recoveryCodesFileName(site, username, now);
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <section className="panel recovery-codes" aria-labelledby="recovery-codes-heading">
      <h3 id="recovery-codes-heading" tabIndex={-1} ref={headingRef}>
        {t("codes.heading")}
      </h3>
      <p>{t(explain)}</p>
      <ul className="codes" aria-label={t("codes.list_label")}>
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          {t("codes.copy")}
        </button>
        <button type="button" onClick={download}>
          {t("codes.download")}
        </button>
      </div>
      <p role="status" aria-live="polite">
        {copied}
      </p>
      <div className="checkbox">
        <input id="codes-saved" type="checkbox" checked={saved} onChange={(e) => setSaved(e.currentTarget.checked)} />
        <label htmlFor="codes-saved">{t("codes.saved")}</label>
      </div>
      <button type="button" className="primary" disabled={!saved} onClick={onAcknowledged}>
        {t("codes.done")}
      </button>
    </section>
  );
}
