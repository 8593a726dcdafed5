/**
 * A path of this site to go to, or null. Only a value starting with a single `/` is taken, and the
 * URL parser decides the rest, so tricks such as `//evil.example` or `/\evil.example` (which
 * browsers read as another host) and `https://...` are refused.
 */
export function sameSitePath(value: string | null): string | null {
  if (!value?.startsWith("/") || value.startsWith("//")) return null;
  const base = window.location.origin;
  try {
    const url = new URL(value, base);
    return url.origin === base ? url.pathname + url.search + url.hash : null;
  } catch {
    return null;
  }
}

/** Hands the browser over to another site (an app's redirect URI, with its answer): the SPA ends here. */
export function leaveTo(url: string): void {
  window.location.assign(url);
}
