//! "Did you mean": the closest known name to a misspelled one.

/// The candidate closest to `word`, when one is close enough to be a typo:
/// a few edits away (at most a third of the word), or one is a prefix of the
/// other (`debounce` for `debounce_ms`, `production` for `prod`). Case is ignored.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let allowed = (lower.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| {
            let candidate = c.to_lowercase();
            let distance = strsim::damerau_levenshtein(&lower, &candidate);
            let prefix = (lower.len() >= 4 && candidate.starts_with(&lower))
                || (candidate.len() >= 3 && lower.starts_with(&candidate));
            (c, distance, prefix)
        })
        .filter(|(_, distance, prefix)| *distance <= allowed || *prefix)
        .min_by_key(|(_, distance, _)| *distance)
        .map(|(c, _, _)| *c)
}

/// `a, b, c`.
pub(crate) fn list(names: &[&str]) -> String {
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let keys = ["enabled", "debounce_ms", "keep_versions"];
        assert_eq!(closest("debounce_msec", &keys), Some("debounce_ms"));
        assert_eq!(closest("debounce", &keys), Some("debounce_ms"));
        assert_eq!(closest("Enabled", &keys), Some("enabled"));
        assert_eq!(closest("sha265", &["sha256", "symbols"]), Some("sha256"));
        assert_eq!(closest("colour", &keys), None);
        assert_eq!(closest("production", &["dev", "prod"]), Some("prod"));
        assert_eq!(closest("SOLUSD", &["BTCUSD", "ETHUSD"]), None);
        assert_eq!(closest("BTCUSDT", &["BTCUSD", "ETHUSD"]), Some("BTCUSD"));
        assert_eq!(closest("ab", &["cd"]), None);
    }
}
