//! How guessable a new password is: the zxcvbn estimate (Dropbox's, through the `zxcvbn`
//! crate), with the account's own words (username, e-mail address) as a dictionary, so
//! "alice2024" is weak for alice. Its advice is answered as stable keys, not English, so the
//! SPA says it in the customer's language.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zxcvbn::feedback::{Suggestion, Warning};
use zxcvbn::matching::patterns::MatchPattern;

/// The lowest zxcvbn score (0 to 4) a new password needs: 3 is "safely unguessable"
/// (about 10^10 guesses), what zxcvbn's authors advise as the floor.
pub const MIN_SCORE: u8 = 3;

/// Why a password is guessable and how to do better, as keys the SPA translates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordFeedback {
    /// What makes it guessable, when one thing stands out.
    pub warning: Option<PasswordWarning>,
    /// How to choose a better one.
    pub suggestions: Vec<PasswordSuggestion>,
}

/// What makes a password guessable (zxcvbn's warnings, plus `contains_personal_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordWarning {
    StraightRow,
    KeyboardPattern,
    SimpleRepeat,
    ExtendedRepeat,
    TopTenPassword,
    TopHundredPassword,
    CommonPassword,
    SimilarToCommonPassword,
    Sequence,
    RecentYears,
    WordByItself,
    Dates,
    NamesByThemselves,
    CommonNames,
    /// The username or the e-mail address (or part of it) is in the password.
    ContainsPersonalInfo,
}

/// How to choose a better password (zxcvbn's suggestions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordSuggestion {
    UseAFewWords,
    NoNeedForSymbols,
    AddAnotherWord,
    Capitalization,
    AllUppercase,
    ReversedWords,
    PredictableSubstitutions,
    LongerKeyboardPattern,
    AvoidRepeats,
    AvoidSequences,
    AvoidRecentYears,
    AvoidAssociatedYears,
    AvoidAssociatedDates,
}

impl From<Warning> for PasswordWarning {
    fn from(warning: Warning) -> Self {
        match warning {
            Warning::StraightRowsOfKeysAreEasyToGuess => Self::StraightRow,
            Warning::ShortKeyboardPatternsAreEasyToGuess => Self::KeyboardPattern,
            Warning::RepeatsLikeAaaAreEasyToGuess => Self::SimpleRepeat,
            Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => Self::ExtendedRepeat,
            Warning::ThisIsATop10Password => Self::TopTenPassword,
            Warning::ThisIsATop100Password => Self::TopHundredPassword,
            Warning::ThisIsACommonPassword => Self::CommonPassword,
            Warning::ThisIsSimilarToACommonlyUsedPassword => Self::SimilarToCommonPassword,
            Warning::SequencesLikeAbcAreEasyToGuess => Self::Sequence,
            Warning::RecentYearsAreEasyToGuess => Self::RecentYears,
            Warning::AWordByItselfIsEasyToGuess => Self::WordByItself,
            Warning::DatesAreOftenEasyToGuess => Self::Dates,
            Warning::NamesAndSurnamesByThemselvesAreEasyToGuess => Self::NamesByThemselves,
            Warning::CommonNamesAndSurnamesAreEasyToGuess => Self::CommonNames,
        }
    }
}

impl From<Suggestion> for PasswordSuggestion {
    fn from(suggestion: Suggestion) -> Self {
        match suggestion {
            Suggestion::UseAFewWordsAvoidCommonPhrases => Self::UseAFewWords,
            Suggestion::NoNeedForSymbolsDigitsOrUppercaseLetters => Self::NoNeedForSymbols,
            Suggestion::AddAnotherWordOrTwo => Self::AddAnotherWord,
            Suggestion::CapitalizationDoesntHelpVeryMuch => Self::Capitalization,
            Suggestion::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => Self::AllUppercase,
            Suggestion::ReversedWordsArentMuchHarderToGuess => Self::ReversedWords,
            Suggestion::PredictableSubstitutionsDontHelpVeryMuch => Self::PredictableSubstitutions,
            Suggestion::UseALongerKeyboardPatternWithMoreTurns => Self::LongerKeyboardPattern,
            Suggestion::AvoidRepeatedWordsAndCharacters => Self::AvoidRepeats,
            Suggestion::AvoidSequences => Self::AvoidSequences,
            Suggestion::AvoidRecentYears => Self::AvoidRecentYears,
            Suggestion::AvoidYearsThatAreAssociatedWithYou => Self::AvoidAssociatedYears,
            Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou => Self::AvoidAssociatedDates,
        }
    }
}

/// Why a new password of the right length is refused. Plain data: the HTTP edge answers it
/// (`error.rs`: `422 password_too_weak` with the feedback, `422 password_breached`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewPasswordRefused {
    #[error("the password is too easy to guess; see feedback for why")]
    TooWeak {
        field: &'static str,
        feedback: PasswordFeedback,
    },
    #[error("this password appears in known data breaches; choose another one")]
    Breached { field: &'static str },
}

/// The words of an account a password should not lean on: the username, the e-mail address,
/// and the address's local part and its pieces (`jan.novak` gives `jan` and `novak`).
pub fn personal_words(username: &str, email: Option<&str>) -> Vec<String> {
    let mut words = vec![username.to_lowercase()];
    if let Some(email) = email {
        let email = email.to_lowercase();
        if let Some((local, _domain)) = email.split_once('@') {
            words.push(local.to_string());
            words.extend(
                local
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|piece| piece.chars().count() >= 3)
                    .map(str::to_string),
            );
        }
        words.push(email);
    }
    words.sort();
    words.dedup();
    words
}

/// zxcvbn's verdict on `password` (it looks at the first 100 characters only, which bounds
/// its work); `Err` with what to improve when the score is below [`MIN_SCORE`]. CPU work of
/// a few milliseconds: callers run it off the async workers.
pub fn check(password: &str, personal_words: &[String]) -> Result<(), PasswordFeedback> {
    let inputs: Vec<&str> = personal_words.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(estimate.score()) >= MIN_SCORE {
        return Ok(());
    }
    // zxcvbn's own feedback has no warning for the account's words; a match of one says it.
    let leans_on_personal_words = estimate.sequence().iter().any(|part| {
        matches!(&part.pattern, MatchPattern::Dictionary(word)
            if personal_words.contains(&word.matched_word))
    });
    let feedback = estimate.feedback();
    Err(PasswordFeedback {
        warning: if leans_on_personal_words {
            Some(PasswordWarning::ContainsPersonalInfo)
        } else {
            feedback
                .and_then(|feedback| feedback.warning())
                .map(PasswordWarning::from)
        },
        suggestions: feedback
            .map(|feedback| {
                feedback
                    .suggestions()
                    .iter()
                    .copied()
                    .map(PasswordSuggestion::from)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_uncommon_words_pass() {
        assert_eq!(check("correct horse battery", &[]), Ok(()));
        assert_eq!(check("marigold quillbert lantern", &[]), Ok(()));
    }

    #[test]
    fn common_passwords_are_refused_with_keys_that_say_why() {
        let feedback = check("password", &[]).unwrap_err();
        assert_eq!(feedback.warning, Some(PasswordWarning::TopTenPassword));
        assert!(feedback
            .suggestions
            .contains(&PasswordSuggestion::AddAnotherWord));
        let repeated = check("hunter2hunter2", &[]).unwrap_err();
        assert_eq!(repeated.warning, Some(PasswordWarning::ExtendedRepeat));
    }

    #[test]
    fn the_username_counts_as_a_dictionary_word() {
        // Strong for anyone else: an unknown word and a year.
        assert_eq!(check("quillbertson2024", &[]), Ok(()));
        let words = personal_words("quillbertson", None);
        let feedback = check("quillbertson2024", &words).unwrap_err();
        assert_eq!(
            feedback.warning,
            Some(PasswordWarning::ContainsPersonalInfo)
        );
    }

    #[test]
    fn the_email_address_and_its_pieces_count_too() {
        let words = personal_words("alice", Some("Zephyrine.Quillbertson@example.com"));
        assert!(words.contains(&"zephyrine.quillbertson".to_string()));
        assert!(words.contains(&"quillbertson".to_string()));
        assert!(words.contains(&"zephyrine.quillbertson@example.com".to_string()));
        assert!(check("quillbertson2024", &words).is_err());
    }

    #[test]
    fn every_key_is_snake_case_on_the_wire() {
        let feedback = PasswordFeedback {
            warning: Some(PasswordWarning::CommonPassword),
            suggestions: vec![PasswordSuggestion::AddAnotherWord],
        };
        assert_eq!(
            serde_json::to_value(feedback).unwrap(),
            serde_json::json!({"warning": "common_password", "suggestions": ["add_another_word"]})
        );
    }
}
