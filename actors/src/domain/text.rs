//! What text people may send as chat content (conversations and billable
//! sessions alike): no control characters but line breaks and tabs, and no
//! bidirectional override or isolate controls. A NUL or an escape sequence
//! can break or hijack whatever shows or stores the text later (terminals,
//! logs, exports); an override makes a message display differently from
//! what it says ("invoice\u{202E}fdp.exe" reads as "invoiceexe.pdf").

/// The bidi embedding and override controls (U+202A..U+202E) and the
/// isolates (U+2066..U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character chat content may not hold: a control character (Unicode
/// category Cc, C0 and C1 and DEL) other than `\n`, `\r` and `\t`, or a
/// bidi control.
pub fn is_refused(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c)
}

/// The problem with `text` as chat content, if any (for a field error).
pub fn problem(text: &str) -> Option<&'static str> {
    text.chars().any(is_refused).then_some(
        "must not contain control characters (other than line breaks and tabs) \
         or bidirectional override or isolate characters",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_controls_and_bidi_overrides() {
        for bad in [
            "\u{0}",
            "\u{7}",
            "\u{1b}[2J",
            "\u{7f}",
            "\u{85}",
            "\u{9f}",
            "\u{202A}",
            "\u{202E}",
            "\u{2066}",
            "\u{2069}",
        ] {
            assert!(problem(&format!("a{bad}b")).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn keeps_line_breaks_tabs_and_every_script() {
        for ok in [
            "line\nnext\r\n\ttab",
            "עברית and العربية",
            "中文, emoji 🎉, zero width joiner 👩\u{200D}💻",
            "left-to-right mark \u{200E} is not an override",
        ] {
            assert_eq!(problem(ok), None, "{ok:?}");
        }
    }
}
