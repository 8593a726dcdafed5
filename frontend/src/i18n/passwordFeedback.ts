import type { IntlShape } from "react-intl";
import type { PasswordSuggestion, PasswordWarning } from "../password/strength";
import type { MessageId } from "./en";

/** Every warning key of the server (and of the meter) in words; a new key fails typecheck until said. */
const WARNING_MESSAGES: Record<PasswordWarning, MessageId> = {
  straight_row: "password_warning.straight_row",
  keyboard_pattern: "password_warning.keyboard_pattern",
  simple_repeat: "password_warning.simple_repeat",
  extended_repeat: "password_warning.extended_repeat",
  top_ten_password: "password_warning.top_ten_password",
  top_hundred_password: "password_warning.top_hundred_password",
  common_password: "password_warning.common_password",
  similar_to_common_password: "password_warning.similar_to_common_password",
  sequence: "password_warning.sequence",
  recent_years: "password_warning.recent_years",
  word_by_itself: "password_warning.word_by_itself",
  dates: "password_warning.dates",
  names_by_themselves: "password_warning.names_by_themselves",
  common_names: "password_warning.common_names",
  contains_personal_info: "password_warning.contains_personal_info",
};

const SUGGESTION_MESSAGES: Record<PasswordSuggestion, MessageId> = {
  use_a_few_words: "password_suggestion.use_a_few_words",
  no_need_for_symbols: "password_suggestion.no_need_for_symbols",
  add_another_word: "password_suggestion.add_another_word",
  capitalization: "password_suggestion.capitalization",
  all_uppercase: "password_suggestion.all_uppercase",
  reversed_words: "password_suggestion.reversed_words",
  predictable_substitutions: "password_suggestion.predictable_substitutions",
  longer_keyboard_pattern: "password_suggestion.longer_keyboard_pattern",
  avoid_repeats: "password_suggestion.avoid_repeats",
  avoid_sequences: "password_suggestion.avoid_sequences",
  avoid_recent_years: "password_suggestion.avoid_recent_years",
  avoid_associated_years: "password_suggestion.avoid_associated_years",
  avoid_associated_dates: "password_suggestion.avoid_associated_dates",
};

type Feedback = { warning?: PasswordWarning | null; suggestions: PasswordSuggestion[] };

/** Why a password is weak and what to do, a sentence each; keys unknown to this SPA are left out. */
export function feedbackMessages(intl: IntlShape, feedback: Feedback): string[] {
  const ids: (MessageId | undefined)[] = [
    feedback.warning ? (WARNING_MESSAGES as Partial<Record<string, MessageId>>)[feedback.warning] : undefined,
    ...feedback.suggestions.map((key) => (SUGGESTION_MESSAGES as Partial<Record<string, MessageId>>)[key]),
  ];
  return ids.filter((id): id is MessageId => id !== undefined).map((id) => intl.formatMessage({ id }));
}
