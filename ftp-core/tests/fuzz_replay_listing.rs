//! Replays the seed corpus of the `listing_parser` fuzz target (`fuzz/corpus/listing_parser`)
//! under stable `cargo test`, with the same checks as the target: no panic, slices inside
//! their line, unparsed lines returned whole, owned copies equal to their source. Inputs that
//! once broke the parser are kept in that folder as regressions.

use std::path::Path;

mod listing_checks;
use listing_checks::run;

#[test]
fn replay_listing_parser_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/listing_parser");
    let mut files = 0;
    let mut entries = 0;
    for f in std::fs::read_dir(&dir).expect("seed corpus folder") {
        let path = f.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        entries += run(&data);
        files += 1;
    }
    assert!(files >= 10, "seed corpus too small: {files} files");
    // The seeds are real listings: most of their lines must parse as entries.
    assert!(entries >= 250, "only {entries} entries in the seeds");
}
