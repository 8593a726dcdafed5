import { CEREMONY_MESSAGES, type CeremonyFailure } from "../api/webauthn";
import { useT } from "../i18n";
import { ErrorAlert, StatusMessage } from "./Alert";

/** What the browser's dialog ended with: a closed dialog is no error, the rest are. */
export function CeremonyNote({ failure }: { failure: CeremonyFailure | null }) {
  const t = useT();
  if (failure === "cancelled") return <StatusMessage>{t(CEREMONY_MESSAGES.cancelled)}</StatusMessage>;
  return <ErrorAlert>{failure && t(CEREMONY_MESSAGES[failure])}</ErrorAlert>;
}
