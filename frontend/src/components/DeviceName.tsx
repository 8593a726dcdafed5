import type { Schemas } from "../api/types";
import { useT } from "../i18n";

type DeviceNameParts = Schemas["DeviceName"];

/**
 * "Firefox 133 on Windows" from the server's `device_name`, in the customer's language; the raw
 * User-Agent when there is no name (a script, a library), or "Unknown browser".
 */
export function useDeviceText() {
  const t = useT();
  return (name: DeviceNameParts | null | undefined, userAgent: string | null | undefined): string => {
    if (!name) return userAgent ?? t("sessions.unknown_agent");
    const { browser, browser_version: version, os } = name;
    if (version && os) return t("device.name", { browser, version, os });
    if (os) return t("device.name_without_version", { browser, os });
    if (version) return t("device.name_without_os", { browser, version });
    return browser;
  };
}

/** The device's name, with the raw User-Agent in a tooltip for those who want it. */
export function DeviceName({ name, userAgent }: { name: DeviceNameParts | null | undefined; userAgent: string | null | undefined }) {
  const text = useDeviceText()(name, userAgent);
  return <span title={name && userAgent ? userAgent : undefined}>{text}</span>;
}
