//! Guest-provided text made safe to print: every string a strategy hands the
//! host (its name, version, description, parameter names, descriptions and
//! text defaults, refusal reasons) goes through [`shown`] before it reaches a
//! terminal or a log line. JSON output escapes on its own; a terminal does
//! not, so an `ESC[31m` in a strategy name would recolour the operator's
//! screen, a bidi override would reorder what they read, and a 1 MiB name
//! would fill their scrollback.

use std::fmt::Write as _;

/// Characters of guest text shown before it is cut: enough for any honest
/// name or one-line description, small enough that 64 of them fit a screen.
pub const SHOWN_CHARS: usize = 200;

/// `text` with every control or invisible formatting character escaped and
/// cut after [`SHOWN_CHARS`] characters, with a marker saying how much was cut.
pub fn shown(text: &str) -> String {
    shown_max(text, SHOWN_CHARS)
}

/// [`shown`] with another length limit (in characters of output, escapes
/// counted as the characters they print).
///
/// Escaped: C0 controls and DEL (`\n`, `\r`, `\t` as such, others as
/// `\u{1b}`), C1 controls (U+0080..U+009F), bidirectional overrides and
/// isolates (U+202A..U+202E, U+2066..U+2069, U+061C, U+200E, U+200F), zero
/// widths and the BOM (U+200B..U+200D, U+2060, U+FEFF), and the backslash
/// itself (`\\`), so an escape in the output always means the host wrote it.
pub fn shown_max(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars + 32));
    let mut width = 0usize;
    for (at, c) in text.char_indices() {
        let start = out.len();
        push_escaped(&mut out, c);
        let added = out[start..].chars().count();
        if width + added > max_chars {
            out.truncate(start);
            let _ = write!(out, "… ({} more bytes)", text.len() - at);
            return out;
        }
        width += added;
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Controls (C0, DEL, C1) and the invisible characters that change how the
/// text around them is displayed.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_13_8_terminal_escapes_and_bidi_overrides_are_shown_escaped() {
        assert_eq!(shown("sma-cross"), "sma-cross");
        assert_eq!(shown("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(shown("a\0b"), "a\\u{0}b");
        assert_eq!(shown("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(shown("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(shown("line\nnext\ttab"), "line\\nnext\\ttab");
        assert_eq!(shown("back\\u{1b}"), "back\\\\u{1b}");
        assert_eq!(shown("ünïcødé €"), "ünïcødé €", "printable text is kept");
    }

    #[test]
    fn regression_13_8_long_guest_text_is_cut_with_a_marker() {
        let long = "x".repeat(1 << 20);
        let out = shown(&long);
        assert_eq!(
            out,
            format!(
                "{}… ({} more bytes)",
                "x".repeat(SHOWN_CHARS),
                (1 << 20) - SHOWN_CHARS
            )
        );
        // An escape is never cut in half.
        let escapes = "\u{1b}".repeat(100);
        let out = shown_max(&escapes, 10);
        assert_eq!(out, "\\u{1b}… (99 more bytes)");
        assert_eq!(shown_max("abc", 3), "abc");
    }
}
