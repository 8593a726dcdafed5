use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A language the SPA ships catalogues for, as a BCP 47 tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Language {
    #[serde(rename = "en")]
    English,
    #[serde(rename = "cs")]
    Czech,
}

impl Language {
    pub const ALL: [Self; 2] = [Self::English, Self::Czech];

    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Czech => "cs",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|language| language.tag() == tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_through_json() {
        for language in Language::ALL {
            let json = serde_json::to_value(language).unwrap();
            assert_eq!(json, serde_json::json!(language.tag()));
            assert_eq!(Language::from_tag(language.tag()), Some(language));
        }
        assert_eq!(Language::from_tag("de"), None);
    }
}
