//! The layering of ARCHITECTURE.md, checked: a module never names one of a higher layer
//! (outside its unit tests), and neither front-end names the other. A new top-level module
//! must be given a layer here, which is where ARCHITECTURE.md's code map says it belongs.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module of `src/` and its layer: lower layers never depend on higher ones.
const LAYERS: &[(&str, u8)] = &[
    // Leaves: Python-exact values, compression, terminal-safe text, sizes, network clients.
    ("py", 0),
    ("codec", 0),
    ("sanitize", 0),
    ("human", 0),
    ("s3_client", 0),
    ("github", 0),
    // The pipeline, in the order data flows.
    ("report", 1),
    ("source", 1),
    ("stats", 2),
    ("run", 3),
    ("jobs", 3),
    ("load", 4),
    ("reread", 5),
    ("triage", 5),
    ("upload", 6),
    // Flags, then what both front-ends stand on, then the front-ends.
    ("cli", 7),
    ("config", 8),
    ("headless", 9),
    ("tui", 9),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_names_a_higher_layer() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs");
        if matches!(top, "lib" | "main") {
            continue;
        }
        let Some(&own) = layers.get(top) else {
            wrong.push(format!(
                "{rel}: module `{top}` has no layer in tests/layers.rs"
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may reach anywhere.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let Some(&theirs) = layers.get(name.as_str()) else {
                continue;
            };
            let front_ends = matches!(
                (top, name.as_str()),
                ("tui", "headless") | ("headless", "tui")
            );
            if name != top && (theirs > own || front_ends) {
                wrong.push(format!(
                    "{rel}: `{top}` (layer {own}) names `crate::{name}` (layer {theirs})"
                ));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "back edges:\n{}", wrong.join("\n"));
}

/// Every top-level module has a layer, and every layer names a module that exists.
#[test]
fn the_layer_table_matches_the_tree() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (name, _) in LAYERS {
        assert!(
            src.join(format!("{name}.rs")).exists() || src.join(name).join("mod.rs").exists(),
            "tests/layers.rs names `{name}`, which is not a module of src/"
        );
    }
}
