import type { CeremonyFailure } from "../api/webauthn";
import { useT, type MessageId } from "../i18n";
import { ErrorAlert, StatusMessage } from "./Alert";

const CEREMONY_MESSAGES: Record<CeremonyFailure, MessageId> = {
  cancelled: "passkey.cancelled",
  already_registered: "passkey.already_registered",
  wrong_site: "passkey.wrong_site",
  unsupported: "passkey.unsupported",
  failed: "passkey.failed",
};

/** What the browser's dialog ended with: a closed dialog is no error, the rest are. */
export function CeremonyNote({ failure }: { failure: CeremonyFailure | null }) {
  const t = useT();
  if (failure === "cancelled") return <StatusMessage>{t(CEREMONY_MESSAGES.cancelled)}</StatusMessage>;
  return <ErrorAlert>{failure && t(CEREMONY_MESSAGES[failure])}</ErrorAlert>;
}
