import { FormattedMessage } from "react-intl";
import { Link } from "react-router";
import { useT } from "../i18n";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";

export function NotFoundPage() {
  const t = useT();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("not_found.heading"));
  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("not_found.heading")}
      </h1>
      <p>
        <FormattedMessage
          id="not_found.body"
          values={{ link: (text) => <Link to="/account">{text}</Link> }}
        />
      </p>
    </section>
  );
}
