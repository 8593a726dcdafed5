import { FormattedMessage } from "react-intl";
import { usePublicSettings } from "../hooks/usePublicSettings";

/** Only these kinds of links are followed: an operator's typo must not become a script URL. */
const SAFE_SCHEMES = ["https:", "http:", "mailto:", "tel:"];

/** The configured contact as a link target and its visible text, or null. */
export function contactLink(contact: string | null | undefined): { href: string; text: string } | null {
  const value = contact?.trim();
  if (!value) return null;
  // A bare e-mail address is the common case: CUSTADMIN_SUPPORT_CONTACT=help@example.com.
  if (/^[^\s@:/]+@[^\s@/]+$/.test(value)) return { href: `mailto:${value}`, text: value };
  try {
    const url = new URL(value);
    if (!SAFE_SCHEMES.includes(url.protocol)) return null;
    const text = url.protocol === "mailto:" || url.protocol === "tel:" ? decodeURIComponent(url.pathname) : value;
    return { href: url.href, text };
  } catch {
    return null;
  }
}

/** The article's note for customers who lost their OTP application, with the operator's contact. */
export function SupportContact() {
  const settings = usePublicSettings();
  const link = contactLink(settings?.support_contact);
  return (
    <p className="hint-box">
      {link ? (
        <FormattedMessage id="support.lost_access" values={{ contact: <a href={link.href}>{link.text}</a> }} />
      ) : (
        <FormattedMessage id="support.lost_access_no_contact" />
      )}
    </p>
  );
}
