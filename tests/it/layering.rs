//! The crate's top-level modules form layers: no module reaches, through
//! `crate::` paths in its non-test code, a module that reaches back to it
//! (docs/internals.md, "Layers"). An import cycle found here is named with
//! one file on each of its edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module of a file under `src/` (`src/storage/sqlite/mod.rs`
/// → `storage`), `None` for the crate roots and test-only files.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let name = rel.file_name()?.to_str()?;
    if name.ends_with("_tests.rs") || name == "tests.rs" || name.starts_with("test_") {
        return None;
    }
    let first = rel.components().next()?.as_os_str().to_str()?;
    let module = first.trim_end_matches(".rs");
    (!matches!(module, "lib" | "main")).then(|| module.to_owned())
}

/// The top-level modules that `text` names with `crate::…`, outside
/// comments and its `#[cfg(test)]` part.
fn uses(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The module graph: module → (used module → one file that uses it).
fn graph() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in files {
        let Some(from) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for to in uses(&text) {
            if to != from {
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| file.clone());
            }
        }
    }
    edges
}

/// A cycle through `node`'s descendants, as the modules on it.
fn cycle_from(
    node: &str,
    edges: &BTreeMap<String, BTreeMap<String, PathBuf>>,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut cycle = path[at..].to_vec();
        cycle.push(node.to_owned());
        return Some(cycle);
    }
    if !done.insert(node.to_owned()) {
        return None;
    }
    path.push(node.to_owned());
    for next in edges.get(node).into_iter().flat_map(|e| e.keys()) {
        if let Some(c) = cycle_from(next, edges, path, done) {
            return Some(c);
        }
    }
    path.pop();
    None
}

#[test]
fn the_top_level_modules_have_no_import_cycle() {
    let edges = graph();
    assert!(
        edges.get("http").is_some_and(|e| e.contains_key("storage")),
        "the graph was not read: {edges:?}"
    );
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = cycle_from(node, &edges, &mut path, &mut done) {
            let why: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("{} -> {} ({})", w[0], w[1], edges[&w[0]][&w[1]].display()))
                .collect();
            panic!("import cycle: {}", why.join(", "));
        }
    }
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let mut edges: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a")] {
        edges
            .entry(a.into())
            .or_default()
            .insert(b.into(), PathBuf::from(format!("{a}.rs")));
    }
    let cycle = cycle_from("a", &edges, &mut Vec::new(), &mut BTreeSet::new());
    assert_eq!(cycle.unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(
        uses("use crate::x::Y;\n// crate::z\n#[cfg(test)]\nuse crate::w;"),
        BTreeSet::from(["x".to_owned()])
    );
}
