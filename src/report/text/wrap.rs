//! Fitting the terminal reports to a width: long `label: value` lines
//! (path, users, techniques, why, baseline) are broken at spaces, and each
//! continuation is indented under the value it continues (`  path:       a, b,` then the rest under `a`). The CLI
//! passes the terminal's width, or [`PIPED_WIDTH`] when the output is not
//! a terminal, so piped reports stay the same everywhere. Long lists of
//! hosts are shortened with a count ([`shorten`]).

/// The width of a report written to a file or a pipe.
pub const PIPED_WIDTH: usize = 100;

/// Narrowest width honoured (a narrower terminal gets this width).
pub const MIN_WIDTH: usize = 40;

/// Names shown of a long list before the rest is counted.
pub const LIST_NAMES: usize = 8;

/// `items` joined with `, `, or the first [`LIST_NAMES`] of them and
/// `and N more` ("ws-008, ws-011 and 34 more").
pub fn shorten(items: &[String]) -> String {
    if items.len() <= LIST_NAMES {
        return items.join(", ");
    }
    let shown = items.get(..LIST_NAMES).unwrap_or(items);
    format!(
        "{} and {} more",
        shown.join(", "),
        items.len().saturating_sub(LIST_NAMES)
    )
}

/// Where a `label:` line's continuations start: under its value
/// (`  users:      a, b` continues under `a`). `None` for a line with no
/// one-word label.
fn hang(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = line.get(indent..).unwrap_or("");
    let colon = rest.find(": ")?;
    let label = rest.get(..colon).unwrap_or("");
    if label.is_empty() || label.contains(' ') || label.starts_with('#') {
        return None;
    }
    let after = rest.get(colon + 1..).unwrap_or("");
    let spaces = after.len() - after.trim_start_matches(' ').len();
    Some(indent + colon + 1 + spaces)
}

/// `text` with every `label: value` line longer than `width` characters
/// broken at spaces (a word longer than the width stays whole on its own
/// line). Other lines (incident headers, timeline rows, suppressed
/// alerts, sentences) stay whole, one record a line, for grep.
pub fn wrap(text: &str, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    // The value column of the last `label:` line: an unlabelled line
    // indented exactly to it continues that label's list (the second and
    // third `why:` sentences) and wraps the same way.
    let mut value_col: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let indent = body.len() - body.trim_start_matches(' ').len();
        let labelled = hang(body);
        if labelled.is_some() {
            value_col = labelled;
        } else if value_col != Some(indent) {
            value_col = None;
        }
        let hanging = labelled.or(value_col.filter(|c| *c > 0 && *c == indent));
        let pad = match hanging {
            Some(p) if body.chars().count() > width => p.min(width / 2),
            _ => {
                out.push_str(line);
                continue;
            }
        };
        let mut col = 0;
        let mut first = true;
        out.push_str(body.get(..indent).unwrap_or(""));
        col += indent;
        for word in body.get(indent..).unwrap_or("").split(' ') {
            let n = word.chars().count();
            if word.is_empty() && col == pad && !first {
                // A run of spaces where the line broke.
                continue;
            }
            if !first && col + 1 + n > width {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', pad));
                col = pad;
            } else if !first {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += n;
            first = false;
        }
        out.push_str(nl);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_break_under_their_value() {
        let line = format!("  path:       {}\n", vec!["ws-0001"; 30].join(", "));
        let w = wrap(&line, 60);
        for l in w.lines() {
            assert!(l.chars().count() <= 60, "{l}");
        }
        let second = w.lines().nth(1).unwrap();
        assert!(second.starts_with(&" ".repeat(14)) && !second.starts_with(&" ".repeat(15)));
        assert_eq!(
            w.split_whitespace().collect::<Vec<_>>(),
            line.split_whitespace().collect::<Vec<_>>()
        );
        assert_eq!(wrap("short\n", 60), "short\n");
        let row = format!("    2011-07-26 10:00:00  85  {}\n", "x ".repeat(60));
        assert_eq!(wrap(&row, 60), row);
    }

    #[test]
    fn continued_values_wrap_under_their_label() {
        let long = "word ".repeat(30);
        let text = format!("  why: {long}\n       {long}\n    08:00  85  rule  {long}\n");
        let w = wrap(&text, 60);
        let lines: Vec<&str> = w.lines().collect();
        // The two `why` sentences wrap under column 7; the timeline row stays whole.
        for l in &lines[..lines.len() - 1] {
            assert!(l.chars().count() <= 60, "{l}");
            assert!(
                l.starts_with("  why: ") || l.starts_with(&" ".repeat(7)),
                "{l}"
            );
        }
        assert!(lines.len() > 4);
        assert!(lines.last().unwrap().chars().count() > 60);
    }

    #[test]
    fn lists_count_what_they_leave_out() {
        let hosts: Vec<String> = (0..36).map(|i| format!("ws-{i:03}")).collect();
        assert_eq!(
            shorten(&hosts),
            "ws-000, ws-001, ws-002, ws-003, ws-004, ws-005, ws-006, ws-007 and 28 more"
        );
        assert_eq!(shorten(&hosts[..2]), "ws-000, ws-001");
    }
}
