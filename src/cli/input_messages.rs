//! What the inputs of a run said: warnings (an input missing, unreadable,
//! or giving nothing; these make the run partial) and notes (what was left
//! out on purpose, a year assumed), printed the same way by every command.

use lateral::collect::pipeline::InputReport;

/// Prints a run's notes (unless `quiet`) and then its warnings on stderr,
/// one line each, every line naming its input.
pub(crate) fn print(path_errors: &[String], notes: &[String], inputs: &[InputReport], quiet: bool) {
    if !quiet {
        for n in notes {
            eprintln!("lateral: note: {n}");
        }
        for n in inputs.iter().flat_map(|r| &r.notes) {
            eprintln!("lateral: note: {n}");
        }
    }
    for p in path_errors {
        eprintln!("lateral: {p}");
    }
    for r in inputs {
        if let Some(problem) = r.problem() {
            eprintln!("lateral: {problem}");
        }
    }
}
