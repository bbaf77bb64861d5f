//! Keyword trigger matching (seed 003 §5.1.2 `auto_triggers.keywords`):
//! finds which configured keyword, if any, a customer message contains, as a
//! whole word or whole phrase, case-insensitively.

/// The first keyword (in list order, returned as configured) that occurs in
/// `text` as a whole word or phrase.
///
/// * Case-insensitive, using Unicode lowercase.
/// * Whole words: the characters just before and just after the match must
///   not be word characters (Unicode alphanumerics or `_`), or must be the
///   start/end of the text. "human" matches "Human!" but not "humane".
/// * Phrases: any run of whitespace in the text or in the keyword counts as
///   one space, so "speak to someone" matches "speak \t to  someone".
/// * Empty or blank keywords never match.
pub fn find_keyword(text: &str, keywords: &[String]) -> Option<String> {
    let haystack = fold(text);
    keywords
        .iter()
        .find(|keyword| {
            let needle = fold(keyword);
            !needle.is_empty() && contains_whole(&haystack, &needle)
        })
        .cloned()
}

/// A word character: Unicode alphanumeric or underscore.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Lowercased, trimmed, with every whitespace run collapsed to one space.
fn fold(s: &str) -> String {
    s.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `needle` occurs in `haystack` with a word boundary on each side.
/// Every occurrence is tried, overlapping ones included.
fn contains_whole(haystack: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(offset) = haystack.get(from..).and_then(|rest| rest.find(needle)) {
        let start = from + offset;
        let end = start + needle.len();
        let before_ok = haystack[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word_char(c));
        let after_ok = haystack[end..]
            .chars()
            .next()
            .is_none_or(|c| !is_word_char(c));
        if before_ok && after_ok {
            return true;
        }
        // Step one character past this occurrence's start.
        from = start + haystack[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kws(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn defaults() -> Vec<String> {
        kws(&[
            "human",
            "agent",
            "person",
            "speak to someone",
            "talk to someone",
        ])
    }

    fn hit(text: &str, list: &[&str]) -> Option<String> {
        find_keyword(text, &kws(list))
    }

    #[test]
    fn whole_word_case_insensitive() {
        assert_eq!(hit("I want a Human!", &["human"]), Some("human".into()));
        assert_eq!(hit("human?", &["human"]), Some("human".into()));
        assert_eq!(hit("HUMAN", &["human"]), Some("human".into()));
        assert_eq!(hit("(human)", &["human"]), Some("human".into()));
        assert_eq!(hit("a human.", &["human"]), Some("human".into()));
        assert_eq!(hit("human-being", &["human"]), Some("human".into()));
    }

    #[test]
    fn not_inside_other_words() {
        assert_eq!(hit("that is humane", &["human"]), None);
        assert_eq!(hit("inhuman treatment", &["human"]), None);
        assert_eq!(hit("humans", &["human"]), None);
        assert_eq!(hit("human_resources", &["human"]), None);
        assert_eq!(hit("human2", &["human"]), None);
        assert_eq!(hit("my_agent", &["agent"]), None);
        assert_eq!(hit("reagent", &["agent"]), None);
    }

    #[test]
    fn returns_keyword_as_configured() {
        assert_eq!(hit("i want a human", &["HuMaN"]), Some("HuMaN".into()));
        assert_eq!(
            hit("i want a human", &["  human "]),
            Some("  human ".into())
        );
    }

    #[test]
    fn first_keyword_in_list_order_wins() {
        let text = "let me talk to an agent, a real person";
        assert_eq!(find_keyword(text, &defaults()), Some("agent".into()));
        assert_eq!(hit(text, &["person", "agent"]), Some("person".into()));
    }

    #[test]
    fn phrases_with_flexible_whitespace() {
        let list = defaults();
        assert_eq!(
            find_keyword("Can I speak   to someone", &list),
            Some("speak to someone".into())
        );
        assert_eq!(
            find_keyword("can i SPEAK\tTO\nsomeone please", &list),
            Some("speak to someone".into())
        );
        assert_eq!(find_keyword("speak to someones", &list), None);
        assert_eq!(find_keyword("bespeak to someone", &list), None);
        assert_eq!(find_keyword("speak to some one", &list), None);
        assert_eq!(find_keyword("speak, to someone", &list), None);
        assert_eq!(
            hit("please speak to someone", &["speak  to\tsomeone"]),
            Some("speak  to\tsomeone".into())
        );
    }

    #[test]
    fn unicode_words() {
        assert_eq!(hit("quiero un agente", &["agent"]), None);
        assert_eq!(hit("quiero un agente", &["agente"]), Some("agente".into()));
        assert_eq!(hit("AGENTE por favor", &["agente"]), Some("agente".into()));
        assert_eq!(hit("So ein ÄRGER!", &["ärger"]), Some("ärger".into()));
        assert_eq!(hit("so ein ärger", &["Ärger"]), Some("Ärger".into()));
        assert_eq!(hit("verärgert", &["ärger"]), None);
        assert_eq!(hit("Ärgernis", &["ärger"]), None);
        // Accented letters are word characters: "é" glues to "agent".
        assert_eq!(hit("agenté", &["agent"]), None);
        assert_eq!(hit("человек нужен", &["человек"]), Some("человек".into()));
        assert_eq!(hit("ЧЕЛОВЕК", &["человек"]), Some("человек".into()));
        assert_eq!(hit("сверхчеловек", &["человек"]), None);
        // Non-alphanumeric symbols are boundaries.
        assert_eq!(hit("🙂human🙂", &["human"]), Some("human".into()));
        assert_eq!(hit("«human»", &["human"]), Some("human".into()));
    }

    #[test]
    fn blank_keywords_never_match() {
        assert_eq!(hit("anything at all", &["", "   ", "\t"]), None);
        assert_eq!(hit("", &[""]), None);
        assert_eq!(hit("  ", &[" "]), None);
        assert_eq!(hit("real person", &["", "person"]), Some("person".into()));
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(hit("", &["human"]), None);
        assert_eq!(find_keyword("human", &[]), None);
    }

    #[test]
    fn later_overlapping_occurrence_is_found() {
        // The first occurrence is glued to "x"; a later, overlapping one is
        // clean and must still count.
        assert_eq!(hit("xab ab ab", &["ab ab"]), Some("ab ab".into()));
        assert_eq!(hit("aaa aa", &["aa"]), Some("aa".into()));
        assert_eq!(hit("aaa", &["aa"]), None);
    }

    #[test]
    fn keyword_with_punctuation() {
        assert_eq!(hit("I love c++ a lot", &["c++"]), Some("c++".into()));
        assert_eq!(hit("abc++", &["c++"]), None);
    }
}
