import { Link } from "../components/Layout";
import { useFocusOnMount } from "../hooks/useFocusOnMount";

export function NotFoundPage() {
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        Page not found
      </h1>
      <p>
        There is nothing here. Go to your <Link to="/account">Account Settings</Link>.
      </p>
    </section>
  );
}
