//! No import circles between sibling modules of a layer, nor between the layers of `src/`
//! (domain, auth, db, service, routes, ...): a module that imports one which imports it back
//! has two concerns tangled, and whoever changes one copy misses the other. Reads the sources
//! and checks that the graph of their `super::x` / `crate::x` references is acyclic. Comments
//! (doc links included) are no imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The sibling modules each `.rs` file of `layer` names, by module (`mod.rs`, the parent, left
/// out: children use it, it does not tangle them).
fn sibling_references(layer: &str) -> Graph {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let sources: BTreeMap<String, String> = std::fs::read_dir(&dir)
        .expect("layer directory readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter(|path| path.file_stem().is_some_and(|stem| stem != "mod"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (
                name,
                std::fs::read_to_string(&path).expect("source readable"),
            )
        })
        .collect();
    assert!(sources.len() > 5, "{layer} sources not found in {dir:?}");
    let prefixes = ["super::".to_string(), format!("crate::{layer}::")];
    sources
        .iter()
        .map(|(module, source)| {
            let mut named = BTreeSet::new();
            for line in source.lines() {
                let code = line.split("//").next().unwrap_or_default();
                for prefix in &prefixes {
                    for (at, _) in code.match_indices(prefix.as_str()) {
                        named.extend(paths_after(&code[at + prefix.len()..]));
                    }
                }
            }
            named.retain(|other| other != module && sources.contains_key(other));
            (module.clone(), named)
        })
        .collect()
}

/// The first path segments after `super::`: one name, or each name of a `{a, b::c}` group.
fn paths_after(rest: &str) -> Vec<String> {
    let name = |text: &str| -> String {
        text.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    match rest.strip_prefix('{') {
        Some(group) => group
            .split('}')
            .next()
            .unwrap_or_default()
            .split(',')
            .map(name)
            .filter(|segment| !segment.is_empty())
            .collect(),
        None => vec![name(rest)],
    }
}

/// A circle of `graph`, if it has one.
fn find_circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_checker_finds_a_circle_and_reads_groups() {
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(from, to)| (from.to_string(), BTreeSet::from([to.to_string()])))
        .collect();
    assert!(find_circle(&graph).is_some());
    assert_eq!(
        paths_after("{self, Proof}, proof::{x}"),
        vec!["self".to_string(), "Proof".to_string()]
    );
    assert_eq!(
        paths_after("proof::{self, Rule};"),
        vec!["proof".to_string()]
    );
}

#[test]
fn no_service_module_imports_a_sibling_that_imports_it_back() {
    let graph = sibling_references("service");
    assert!(
        graph["passkeys"].contains("proof"),
        "the reader lost the edges: {graph:?}"
    );
    assert_eq!(find_circle(&graph), None, "import circle in service/");
}

#[test]
fn no_routes_module_imports_a_sibling_that_imports_it_back() {
    let graph = sibling_references("routes");
    assert!(
        graph["passkeys"].contains("auth"),
        "the reader lost the edges: {graph:?}"
    );
    assert_eq!(find_circle(&graph), None, "import circle in routes/");
}

/// The `crate::x` references of each top-level module of `src/` (a file, or a folder read
/// whole), to other top-level modules.
fn layer_references() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    fn sources_under(path: &Path, into: &mut Vec<String>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).expect("folder readable") {
                sources_under(&entry.expect("directory entry").path(), into);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(std::fs::read_to_string(path).expect("source readable"));
        }
    }
    let layers: BTreeMap<String, Vec<String>> = std::fs::read_dir(&src)
        .expect("src readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir() || path.extension().is_some_and(|ext| ext == "rs"))
        .filter_map(|path| {
            let name = path.file_stem()?.to_string_lossy().into_owned();
            let mut sources = Vec::new();
            sources_under(&path, &mut sources);
            Some((name, sources))
        })
        .filter(|(name, _)| name != "lib" && name != "main")
        .collect();
    layers
        .iter()
        .map(|(layer, sources)| {
            let mut named = BTreeSet::new();
            for line in sources.iter().flat_map(|source| source.lines()) {
                let code = line.split("//").next().unwrap_or_default();
                for (at, _) in code.match_indices("crate::") {
                    named.extend(paths_after(&code[at + "crate::".len()..]));
                }
            }
            named.retain(|other| other != layer && layers.contains_key(other));
            (layer.clone(), named)
        })
        .collect()
}

#[test]
fn the_layers_of_src_import_each_other_one_way() {
    let graph = layer_references();
    assert!(
        graph["routes"].contains("service") && graph["service"].contains("db"),
        "the reader lost the edges: {graph:?}"
    );
    assert_eq!(
        find_circle(&graph),
        None,
        "import circle between layers of src/"
    );
}

/// Only the HTTP edge (`error.rs`, `routes/`) knows HTTP: the use cases answer their own
/// `ServiceError`, `db`, `auth` and `domain` theirs, and none of them names the edge's error
/// type or the web framework. Comments do not count.
#[test]
fn only_the_http_edge_names_its_error_type_and_the_web_framework() {
    fn sources_under(path: &Path, into: &mut Vec<(String, String)>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).expect("folder readable") {
                sources_under(&entry.expect("directory entry").path(), into);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let source = std::fs::read_to_string(path).expect("source readable");
            into.push((path.display().to_string(), source));
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for layer in ["service", "db", "auth", "domain"] {
        let mut sources = Vec::new();
        sources_under(&src.join(layer), &mut sources);
        assert!(sources.len() > 5, "{layer} sources not found");
        for (path, source) in sources {
            for (number, line) in source.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for edge in ["ApiError", "actix_web"] {
                    assert!(
                        !code.contains(edge),
                        "{path}:{} names {edge}; only routes/ and error.rs may",
                        number + 1
                    );
                }
            }
        }
    }
}
