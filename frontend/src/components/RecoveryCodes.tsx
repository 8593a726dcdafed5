import { useState } from "react";
import { useFocusOnMount } from "../hooks/useFocusOnMount";

type RecoveryCodesProps = {
  codes: string[];
  username: string;
  onAcknowledged: () => void;
};

/** Shows fresh recovery codes once, with copy and download, until the customer says they are saved. */
export function RecoveryCodes({ codes, username, onAcknowledged }: RecoveryCodesProps) {
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState<string>("");
  const text = codes.join("\n") + "\n";

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("The recovery codes are copied to your clipboard.");
    } catch {
      setCopied("Copying is not possible here. Please select the codes and copy them yourself.");
    }
  }

  function download() {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `custadmin-recovery-codes-${username}.txt`;
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <section className="panel recovery-codes" aria-labelledby="recovery-codes-heading">
      <h3 id="recovery-codes-heading" tabIndex={-1} ref={headingRef}>
        Your recovery codes
      </h3>
      <p>
        If you lose your phone, each of these codes lets you log in once instead of the six-digit code. Keep
        them somewhere safe: they are shown only this once.
      </p>
      <ul className="codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          Copy codes
        </button>
        <button type="button" onClick={download}>
          Download codes
        </button>
      </div>
      <p role="status" aria-live="polite">
        {copied}
      </p>
      <div className="checkbox">
        <input id="codes-saved" type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
        <label htmlFor="codes-saved">I have saved my recovery codes</label>
      </div>
      <button type="button" className="primary" disabled={!saved} onClick={onAcknowledged}>
        Done
      </button>
    </section>
  );
}
