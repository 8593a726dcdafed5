import type { Schemas } from "../api/types";

export type PasswordWarning = Schemas["PasswordWarning"];
export type PasswordSuggestion = Schemas["PasswordSuggestion"];
export type Score = 0 | 1 | 2 | 3 | 4;

/** What the meter shows: zxcvbn-ts's estimate, its advice in the server's keys. */
export type Estimate = {
  score: Score;
  warning: PasswordWarning | null;
  suggestions: PasswordSuggestion[];
};

/** The server refuses a score below this (`password_too_weak`). */
export const ACCEPTED_SCORE: Score = 3;

/** zxcvbn-ts's warning keys to the server's (`PasswordWarning` in openapi.yaml), so one catalogue says both. */
const WARNINGS: Record<string, PasswordWarning> = {
  straightRow: "straight_row",
  keyPattern: "keyboard_pattern",
  simpleRepeat: "simple_repeat",
  extendedRepeat: "extended_repeat",
  sequences: "sequence",
  recentYears: "recent_years",
  dates: "dates",
  topTen: "top_ten_password",
  topHundred: "top_hundred_password",
  common: "common_password",
  similarToCommon: "similar_to_common_password",
  wordByItself: "word_by_itself",
  namesByThemselves: "names_by_themselves",
  commonNames: "common_names",
  userInputs: "contains_personal_info",
};

const SUGGESTIONS: Record<string, PasswordSuggestion> = {
  l33t: "predictable_substitutions",
  reverseWords: "reversed_words",
  allUppercase: "all_uppercase",
  capitalization: "capitalization",
  dates: "avoid_associated_dates",
  recentYears: "avoid_recent_years",
  associatedYears: "avoid_associated_years",
  sequences: "avoid_sequences",
  repeated: "avoid_repeats",
  longerKeyboardPattern: "longer_keyboard_pattern",
  anotherWord: "add_another_word",
  useWords: "use_a_few_words",
  noNeed: "no_need_for_symbols",
};

export type Estimator = (password: string, userInputs: string[]) => Estimate;

let loading: Promise<Estimator> | null = null;

/**
 * zxcvbn-ts and its dictionaries (some 2 MB), loaded on first use only: the pages that set a
 * password ask for it, so the sign-in page's bundle does not carry it.
 */
export function loadEstimator(): Promise<Estimator> {
  loading ??= Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common")]).then(
    ([core, common]) => {
      const zxcvbn = new core.ZxcvbnFactory({
        dictionary: { ...common.dictionary },
        graphs: common.adjacencyGraphs,
      });
      return (password, userInputs) => {
        // As the server does: the password is compared in its NFKC form.
        const result = zxcvbn.check(password.normalize("NFKC"), userInputs);
        const warning = result.feedback.warning ? WARNINGS[result.feedback.warning] ?? null : null;
        const suggestions = result.feedback.suggestions
          .map((key) => SUGGESTIONS[key])
          .filter((key): key is PasswordSuggestion => key !== undefined);
        return { score: result.score as Score, warning, suggestions };
      };
    },
  );
  return loading;
}

/** The account's words a password should not lean on, as the server counts them. */
export function personalWords(username: string, email: string | null | undefined): string[] {
  const words = [username.trim().toLowerCase()];
  const address = email?.trim().toLowerCase();
  if (address) {
    const local = address.split("@")[0] ?? "";
    words.push(address, local, ...local.split(/[^\p{L}\p{N}]+/u).filter((piece) => piece.length >= 3));
  }
  return [...new Set(words.filter(Boolean))];
}
