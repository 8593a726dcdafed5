import { useLayoutEffect, useRef } from "react";

/** Moves keyboard and screen-reader focus to the element when a new step appears. */
export function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useLayoutEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}
