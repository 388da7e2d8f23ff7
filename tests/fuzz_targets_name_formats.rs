//! Every fuzz target that calls `lateral::fuzz_log` names a format the
//! registry knows: `fuzz_log` does nothing for an unknown name, so a typo
//! in a target would fuzz nothing and pass.

use lateral::source::LogFormat;

#[test]
fn every_fuzz_log_call_names_a_registered_format() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // `fuzz_log("flag", ...)` calls.
        let mut rest = text.as_str();
        while let Some(at) = rest.find("fuzz_log(\"") {
            rest = &rest[at + "fuzz_log(\"".len()..];
            let end = rest.find('"').unwrap();
            names.push((path.clone(), rest[..end].to_string()));
        }
        // A target that picks among several formats lists them in a
        // `kinds = [...]` array.
        for line in text.lines().filter(|l| l.contains("kinds = [")) {
            for (i, part) in line.split('"').enumerate() {
                if i % 2 == 1 {
                    names.push((path.clone(), part.to_string()));
                }
            }
        }
    }
    assert!(names.len() >= 9, "too few fuzz_log calls found: {names:?}");
    for (path, name) in &names {
        assert!(
            LogFormat::named(name).is_some(),
            "{}: fuzz_log({name:?}) names no registered format",
            path.display()
        );
    }
}
