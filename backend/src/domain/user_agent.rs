use serde::Serialize;
use utoipa::ToSchema;

/// The first product of a User-Agent (e.g. `Mozilla/5.0 (X11; Linux x86_64)`), at most 80
/// characters: enough to recognise a device, too little to fingerprint anyone.
pub fn rough_user_agent(agent: &str) -> String {
    let agent = agent.trim();
    let rough = match agent.find(')') {
        Some(end) => &agent[..=end],
        None => agent,
    };
    rough.chars().filter(|c| !c.is_control()).take(80).collect()
}

/// What a person recognises a device by ("Firefox 133 on Windows"), read from its
/// User-Agent by woothee. In parts, so each client words it in its own language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"browser": "Firefox", "browser_version": "133", "os": "Windows"}))]
pub struct DeviceName {
    /// `Firefox`, `Chrome`, `Safari`, `Edge`, ...
    pub browser: String,
    /// The major version, when the User-Agent says it.
    pub browser_version: Option<String>,
    /// `Windows`, `macOS`, `iPhone`, `Android`, `Linux`, ..., when the User-Agent says it.
    pub os: Option<String>,
}

/// The device name of a browser's User-Agent; `None` for anything woothee does not know as
/// a browser (scripts, libraries, crawlers): the raw string says more about those.
pub fn device_name(agent: &str) -> Option<DeviceName> {
    let parsed = woothee::parser::Parser::new().parse(agent)?;
    if parsed.browser_type != "browser" || parsed.name == woothee::woothee::VALUE_UNKNOWN {
        return None;
    }
    let browser_version = parsed
        .version
        .split('.')
        .next()
        .filter(|major| !major.is_empty() && major.bytes().all(|byte| byte.is_ascii_digit()))
        .map(str::to_string);
    let os = match parsed.os {
        woothee::woothee::VALUE_UNKNOWN => None,
        // Windows 11 still says "Windows NT 10.0": the User-Agent cannot tell them apart.
        "Windows 10" => Some("Windows".to_string()),
        "Mac OSX" => Some("macOS".to_string()),
        os => Some(os.to_string()),
    };
    Some(DeviceName {
        browser: parsed.name.to_string(),
        browser_version,
        os,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_agent_is_cut_to_its_first_product() {
        assert_eq!(
            rough_user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/1"),
            "Mozilla/5.0 (X11; Linux x86_64)"
        );
        assert_eq!(rough_user_agent(&"x".repeat(500)).len(), 80);
    }

    fn named(browser: &str, version: &str, os: &str) -> Option<DeviceName> {
        Some(DeviceName {
            browser: browser.into(),
            browser_version: Some(version.into()),
            os: Some(os.into()),
        })
    }

    #[test]
    fn real_browsers_are_named_as_people_know_them() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                named("Firefox", "133", "Windows"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                named("Chrome", "131", "macOS"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
                named("Safari", "17", "iPhone"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                named("Chrome", "131", "Android"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                named("Edge", "131", "Windows"),
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                named("Firefox", "133", "Linux"),
            ),
        ];
        for (agent, expected) in cases {
            assert_eq!(device_name(agent), expected, "{agent}");
        }
    }

    #[test]
    fn scripts_and_unknown_agents_have_no_device_name() {
        for agent in [
            "curl/8.5.0",
            "reqwest",
            "python-requests/2.31",
            "",
            "Googlebot/2.1",
        ] {
            assert_eq!(device_name(agent), None, "{agent}");
        }
    }
}
