import { useEffect } from "react";
import { useT } from "../i18n";
import { useSiteName } from "./usePublicSettings";

/** The tab's title: the page, then the site (`Account Settings · Example Hosting`). */
export function useDocumentTitle(page: string) {
  const t = useT();
  const site = useSiteName();
  useEffect(() => {
    document.title = site ? t("title.page", { page, site }) : page;
  }, [t, page, site]);
}
