//! Generated code lives in the user's crate, so every `::verdict::` path the
//! macro writes is a promise: it must name the public API (a root item, or
//! the `meta`, `view` and `serde` modules) or the one door for everything
//! else, `__private`. Then the runtime's insides can move without breaking
//! user crates.

use std::fs;
use std::path::Path;

/// The modules generated code may name below the crate root.
const OPEN_MODULES: &[&str] = &["__private", "meta", "view", "serde"];

/// Interpolated segments (`::verdict::#may`) and the root items they stand
/// for, so a new interpolation has to be looked at and listed here.
const INTERPOLATED: &[&str] = &["#may"];

/// Every `::verdict::…` path in the macro's sources, with file and line.
fn paths_written() -> Vec<(String, usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut files: Vec<_> = fs::read_dir(&src)
        .expect("the macro's src directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("::verdict::") {
                let tail = &rest[at + "::verdict::".len()..];
                let end = tail
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '#'))
                    .unwrap_or(tail.len());
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                found.push((name, n + 1, tail[..end].to_string()));
                rest = &tail[end..];
            }
        }
    }
    found
}

/// Whether a path after `::verdict::` stays inside the promised surface.
fn is_promised(path: &str) -> bool {
    let first = path.split("::").next().unwrap_or("");
    let is_root_item = first.starts_with(|c: char| c.is_ascii_uppercase());
    is_root_item || OPEN_MODULES.contains(&first) || INTERPOLATED.contains(&first)
}

#[test]
fn generated_code_names_only_the_public_api_and_private() {
    let paths = paths_written();
    assert!(
        paths.len() > 50,
        "the scan found only {} paths: is it reading the macro's sources?",
        paths.len()
    );
    let outside: Vec<String> = paths
        .iter()
        .filter(|(_, _, p)| !is_promised(p))
        .map(|(f, n, p)| format!("{f}:{n}: ::verdict::{p}"))
        .collect();
    assert!(
        outside.is_empty(),
        "generated code names internal paths; re-export them from `__private`:\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_rule_rejects_an_internal_module() {
    assert!(is_promised("__private::ctx"));
    assert!(is_promised("System"));
    assert!(!is_promised("check::reduction::relabel::__probe::Probe"));
    assert!(!is_promised("liveness::EventuallyMeta"));
    assert!(!is_promised("#path"));
}
