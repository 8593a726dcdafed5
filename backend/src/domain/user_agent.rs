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
}
