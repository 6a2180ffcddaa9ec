//! Text styling shared by the live lines and the summary.

/// `text` in an ANSI style (SGR parameters such as `1;31`) when `color`.
pub(crate) fn paint(text: &str, style: &str, color: bool) -> String {
    if color {
        format!("\x1b[{style}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A message on one line: its non-blank lines trimmed and joined with
/// ` | `, cut to `width` characters (ending in `…`).
pub(crate) fn one_line(message: &str, width: usize) -> String {
    let joined = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    if joined.chars().count() <= width {
        joined
    } else {
        let mut cut: String = joined.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}
