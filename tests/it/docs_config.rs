//! The configuration examples in the documentation are real: every fenced
//! ```` ```toml ```` block of `README.md` and of `docs/*.md` is written to a
//! file and checked by the built binary's `check-config --config FILE`,
//! which must exit 0. A block whose first line is `# fragment` is skipped:
//! the mark is for blocks that cannot stand alone (say why on the same
//! line), and should stay rare.

use crate::process::Binary;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// One fenced TOML block: the file it is in, the line of its opening fence
/// (1-based) and its text.
struct Block {
    file: String,
    line: usize,
    text: String,
}

/// The Markdown files whose TOML blocks are checked: `README.md`, then
/// every `docs/*.md` in name order.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    let mut all = vec![root.join("README.md")];
    all.extend(docs);
    all
}

/// The ```` ```toml ```` blocks of `text` (fences at the start of a line).
fn toml_blocks(file: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut open {
            None if line.trim_end() == "```toml" => open = Some((i + 1, String::new())),
            None => {}
            Some(_) if line.trim_end() == "```" => {
                let (line, text) = open.take().expect("an open block");
                out.push(Block {
                    file: file.to_owned(),
                    line,
                    text,
                });
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(open.is_none(), "{file}: a ```toml block is never closed");
    out
}

fn is_fragment(block: &Block) -> bool {
    block
        .text
        .lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with("# fragment"))
}

#[test]
fn the_extractor_finds_blocks_and_fragment_marks() {
    let text =
        "intro\n```toml\na = 1\n```\n```sh\nls\n```\n```toml\n# fragment: partial\nb = 2\n```\n";
    let blocks = toml_blocks("x.md", text);
    assert_eq!(blocks.len(), 2);
    assert_eq!((blocks[0].line, blocks[0].text.as_str()), (2, "a = 1\n"));
    assert!(!is_fragment(&blocks[0]));
    assert_eq!(blocks[1].line, 8);
    assert!(is_fragment(&blocks[1]));
}

#[test]
fn every_toml_block_in_the_docs_passes_check_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut blocks = Vec::new();
    for doc in documents(root) {
        let text =
            std::fs::read_to_string(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        let name = doc.strip_prefix(root).unwrap_or(&doc).display().to_string();
        blocks.extend(toml_blocks(&name, &text));
    }
    // The README alone has five; fewer means the extractor broke.
    assert!(
        blocks.len() >= 10,
        "only {} toml blocks found",
        blocks.len()
    );

    let dir = TempDir::new().unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        if is_fragment(block) {
            continue;
        }
        let file = dir.path().join(format!("block-{i}.toml"));
        std::fs::write(&file, &block.text).unwrap();
        let args = ["--config", file.to_str().unwrap(), "check-config"];
        let out = Binary::run(dir.path(), &args);
        checked += 1;
        if !out.status.success() {
            failures.push(format!(
                "{}, the ```toml block at line {} (exit {:?}):\n{}\n--- block ---\n{}",
                block.file,
                block.line,
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim(),
                block.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} documented configuration blocks fail `callhook check-config`:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
