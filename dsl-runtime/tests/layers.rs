//! The crate's layers, checked from its sources: a core that every engine
//! shares and that depends on none of them; engines on the core (and on each
//! other without cycles); the runtime on the core; the CLI on top. A `use`
//! that breaks a layer fails here with the file and line that made it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The semantics and the types every engine reports through.
const CORE: &[&str] = &[
    "system",
    "budget",
    "meta",
    "ctx",
    "setup",
    "workload",
    "faults",
    "semantics",
    "view",
    "choice",
    "fingerprint",
    "progress",
    "numbers",
    "rng",
    "observe",
    "violation",
];

/// What runs a system: search, sampling, proof, drawing, transformation,
/// and the change analysis over its metadata.
const ENGINES: &[&str] = &[
    "search",
    "check",
    "simulate",
    "liveness",
    "chart",
    "transform",
    "induct",
    "lin",
    "change",
];

/// Real processes on real sockets.
const RUNTIME: &str = "runtime";

/// Uses the runtime may make of an engine, each with its reason.
const RUNTIME_MAY_USE: &[(&str, &str)] = &[
    (
        "transform::Origin",
        "the RESP gateway tags each command with the origin the tagging transformer carries",
    ),
    (
        "transform::upgrade::",
        "the live upgrade serves the checked Upgrade<P>: its versioned state and messages, \
         and its plan's migration and adapters",
    ),
];

/// Every `crate::module::rest` reference in the files of `module`, as
/// (file, line, referenced module, rest of the path).
fn references(src: &Path, module: &str) -> Vec<(String, usize, String, String)> {
    let mut files = Vec::new();
    let single = src.join(format!("{module}.rs"));
    if single.exists() {
        files.push(single);
    }
    collect(&src.join(module), &mut files);
    assert!(
        !files.is_empty(),
        "module {module} has no source files: update the layer lists"
    );
    let mut out = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("a source file");
        let shown = file.strip_prefix(src).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let tail = &rest[at + "crate::".len()..];
                let end = tail
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(tail.len());
                let path = &tail[..end];
                let (first, more) = path.split_once("::").unwrap_or((path, ""));
                out.push((shown.clone(), n + 1, first.to_string(), more.to_string()));
                rest = &tail[end..];
            }
        }
    }
    out
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.map(|e| e.expect("an entry").path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_core_depends_on_no_engine_runtime_or_cli() {
    let src = src();
    let mut broken = Vec::new();
    let mut seen = 0;
    for module in CORE {
        let refs = references(&src, module);
        seen += refs.len();
        for (file, line, to, rest) in refs {
            if ENGINES.contains(&to.as_str()) || to == RUNTIME || to == "cli" {
                broken.push(format!("{file}:{line}: crate::{to}::{rest}"));
            }
        }
    }
    assert!(
        seen > 30,
        "only {seen} references in the core: is the scan reading its files?"
    );
    assert!(
        broken.is_empty(),
        "the core reaches up into an engine:\n{}",
        broken.join("\n")
    );
}

#[test]
fn engines_and_the_runtime_stay_below_the_cli() {
    let src = src();
    let mut broken = Vec::new();
    for module in ENGINES.iter().chain([&RUNTIME]) {
        for (file, line, to, rest) in references(&src, module) {
            let allowed_for_runtime = *module == RUNTIME
                && RUNTIME_MAY_USE
                    .iter()
                    .any(|(path, _)| *path == format!("{to}::{rest}"));
            let up = to == "cli" || (to == RUNTIME && *module != RUNTIME);
            let sideways = *module == RUNTIME && ENGINES.contains(&to.as_str());
            if up || (sideways && !allowed_for_runtime) {
                broken.push(format!("{file}:{line}: crate::{to}::{rest}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "a layer reaches up or sideways:\n{}",
        broken.join("\n")
    );
}

#[test]
fn engines_use_each_other_without_a_cycle() {
    let src = src();
    let mut uses: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for module in ENGINES {
        let targets = uses.entry(module).or_default();
        for (_, _, to, _) in references(&src, module) {
            if to != *module && ENGINES.contains(&to.as_str()) {
                targets.insert(to);
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit<'a>(
        at: &'a str,
        uses: &'a BTreeMap<&'a str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|m| *m == at) {
            let mut cycle: Vec<String> = path[i..].iter().map(|m| m.to_string()).collect();
            cycle.push(at.to_string());
            return Some(cycle);
        }
        if !done.insert(at) {
            return None;
        }
        path.push(at);
        for next in uses.get(at).into_iter().flatten() {
            if let Some(c) = visit(next, uses, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in ENGINES {
        let found = visit(module, &uses, &mut Vec::new(), &mut done);
        assert!(
            found.is_none(),
            "engines form a cycle: {}",
            found.unwrap().join(" -> ")
        );
    }
}
