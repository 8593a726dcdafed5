import { useLayoutEffect, useRef } from "react";

/** `focusVisible` is in the HTML standard and in Chromium and Firefox, not yet in TypeScript's DOM types. */
type Focusing = FocusOptions & { focusVisible?: boolean };
const WITHOUT_RING: Focusing = { focusVisible: false };

/** Whether anyone has pressed a key or pointed at the page since it loaded. */
let interacted = false;
for (const type of ["keydown", "pointerdown"] as const) {
  window.addEventListener(type, () => (interacted = true), { capture: true, once: true });
}

/**
 * Moves keyboard and screen-reader focus to the element when a new step appears. Whether it
 * draws the focus ring is the browser's :focus-visible choice (yes after the keyboard, no after a
 * click or tap), except on a page just opened: nobody moved there, so no ring is asked for.
 */
export function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useLayoutEffect(() => {
    ref.current?.focus(interacted ? undefined : WITHOUT_RING);
  }, []);
  return ref;
}
