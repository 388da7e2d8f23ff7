//! The pipeline's stages import only forward: a stage may use the stages
//! before it, never one after it, and no two modules of the library import
//! each other round in a circle. Reads every `crate::` path in the
//! library's non-test code (doc comments and `#[cfg(test)]` modules aside)
//! and fails naming the file, the line and the two stages.
//!
//! ARCHITECTURE.md states the same order; change both together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stages in pipeline order, each with the top-level modules it holds.
/// A module may use its own stage and every earlier one.
const STAGES: &[(&str, &[&str])] = &[
    ("model", &["model", "event", "error", "diag", "stats"]),
    ("input", &["input"]),
    ("source", &["source"]),
    ("analyzer", &["analyzer"]),
    (
        "collect",
        &["collect", "pipeline", "event_store", "flow_store"],
    ),
    ("hosts", &["hosts"]),
    ("profile", &["profile"]),
    ("baseline", &["baseline"]),
    ("alert", &["alert"]),
    ("detect", &["detect", "config"]),
    ("sigma", &["sigma"]),
    ("incident", &["incident"]),
    ("analyze", &["analyze"]),
    ("judge", &["seen", "stored", "eval"]),
    ("report", &["report"]),
    ("scenario", &["synth", "scenario", "gen"]),
];

fn stage_of(module: &str) -> Option<usize> {
    STAGES.iter().position(|(_, mods)| mods.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without comments and without `#[cfg(test)]` items (a
/// test module may drive later stages to check a whole path), as
/// (line number, text) pairs.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut skip_depth: Option<i64> = None;
    let mut depth: i64 = 0;
    let mut pending_cfg_test = false;
    for (i, raw) in text.lines().enumerate() {
        let line = match raw.find("//") {
            Some(at) => &raw[..at],
            None => raw,
        };
        let trimmed = line.trim();
        let opens = line.matches('{').count() as i64;
        let closes = line.matches('}').count() as i64;
        if skip_depth.is_none() {
            if trimmed.starts_with("#[cfg(test)]") {
                pending_cfg_test = true;
                continue;
            }
            if pending_cfg_test && !trimmed.is_empty() && !trimmed.starts_with("#[") {
                pending_cfg_test = false;
                if opens > closes {
                    skip_depth = Some(depth);
                }
                depth += opens - closes;
                continue;
            }
        }
        depth += opens - closes;
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        out.push((i + 1, line.to_string()));
    }
    out
}

/// Every top-level module a line names through `crate::`, including the
/// members of `use crate::{a::X, b::Y}` groups.
fn named_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if part.trim().contains("::") && name.starts_with(|c: char| c.is_ascii_lowercase())
                {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // `crate::Error` and other items re-exported at the root are no stage.
            let is_module = name.starts_with(|c: char| c.is_ascii_lowercase());
            if is_module && rest[name.len()..].starts_with("::") {
                out.push(name);
            }
        }
    }
    out
}

/// The top-level module a source file belongs to (`None` for the crate root).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

#[test]
fn stages_import_only_forward_and_modules_form_no_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "the library's sources were not found");
    let mut backward = Vec::new();
    let mut unknown = BTreeSet::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut checked = 0usize;
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        // The binary's own modules (the command line) sit after every stage.
        if module == "cli" {
            continue;
        }
        let Some(from) = stage_of(&module) else {
            unknown.insert(module.clone());
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (line_no, line) in code_lines(&text) {
            for used in named_modules(&line) {
                checked += 1;
                if used == module {
                    continue;
                }
                graph
                    .entry(module.clone())
                    .or_default()
                    .insert(used.clone());
                match stage_of(&used) {
                    Some(to) if to > from => backward.push(format!(
                        "{}:{line_no}: {} (stage {}) imports {} (stage {}, later)",
                        file.strip_prefix(root).unwrap_or(file).display(),
                        module,
                        STAGES[from].0,
                        used,
                        STAGES[to].0
                    )),
                    Some(_) => {}
                    None => {
                        unknown.insert(used);
                    }
                }
            }
        }
    }
    assert!(checked > 100, "too few crate:: paths were read ({checked})");
    assert!(
        unknown.is_empty(),
        "modules with no stage in STAGES (add them, and to ARCHITECTURE.md): {unknown:?}"
    );
    assert!(
        backward.is_empty(),
        "imports from a later stage:\n{}",
        backward.join("\n")
    );
    // No circles among top-level modules (within one stage too).
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in graph.get(&at).into_iter().flatten() {
                if next == start {
                    panic!("import circle: {} -> {start}", path.join(" -> "));
                }
                if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
}

/// The module path of a source file: `src/source/zeek_log.rs` is
/// `source::zeek_log`, `src/source/mod.rs` is `source`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .components()
        .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs").to_string();
        if stem != "mod" && stem != "lib" && stem != "main" {
            parts.push(stem);
        }
    }
    parts
}

/// Every `crate::a::b::...` path of a line, as its segments (lower-case
/// ones only: the modules), with `use crate::{...}` groups expanded.
fn named_paths(line: &str) -> Vec<Vec<String>> {
    let segments = |text: &str| -> Vec<String> {
        text.split("::")
            .map(|s| {
                s.trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|s| s.starts_with(|c: char| c.is_ascii_lowercase()))
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                out.push(segments(part));
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            out.push(segments(&rest[..end]));
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// No two files of the library import each other round in a circle, at
/// any depth (`source::zeek_log` and `source::zeek_map`, say). A module
/// and its own parent or child are not a circle: a child uses what its
/// parent declares.
#[test]
fn no_import_circle_between_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(&src, f)).collect();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let from = module_path(&src, file);
        if from.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (_, line) in code_lines(&text) {
            let mut paths = named_paths(&line);
            // `super::x` names a sibling of this file's module.
            let parent = &from[..from.len() - 1];
            let only_super = line.replace("crate::", "#").replace("super::", "crate::");
            for sibling in named_paths(&only_super) {
                let mut p = parent.to_vec();
                p.extend(sibling);
                paths.push(p);
            }
            for path in paths {
                // The longest prefix of the path that is a file of the tree.
                let Some(to) = (1..=path.len())
                    .rev()
                    .map(|n| path[..n].to_vec())
                    .find(|p| modules.contains(p))
                else {
                    continue;
                };
                let related = to.starts_with(&from) || from.starts_with(&to);
                if !related {
                    graph.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    assert!(graph.len() > 20, "too few file modules import others");
    let mut circles = Vec::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.join("::")])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in graph.get(&at).into_iter().flatten() {
                if next == start {
                    circles.push(format!("{} -> {}", path.join(" -> "), start.join("::")));
                }
                if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.join("::"));
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_reader_finds_imports_and_skips_comments_and_tests() {
    let text = "use crate::a::X;\n// use crate::b::Y;\nuse crate::{c::Z, d::W};\nfn f() { crate::e::g(); }\n#[cfg(test)]\nmod tests {\n    use crate::f::V;\n}\nuse crate::h::U;\n";
    let found: Vec<String> = code_lines(text)
        .into_iter()
        .flat_map(|(_, l)| named_modules(&l))
        .collect();
    assert_eq!(found, ["a", "c", "d", "e", "h"]);
    assert_eq!(
        named_paths("use crate::{source::zeek_map, event::Flow}; crate::x::y::Z::f()"),
        [
            vec!["source".to_string(), "zeek_map".to_string()],
            vec!["event".to_string()],
            vec!["x".to_string(), "y".to_string()],
        ]
    );
}
