//! Unit tests of the pieces that have no public surface.

use super::repr::repr;
use super::value::{dedent, format, percent, Value};

#[test]
fn repr_picks_quotes_like_python() {
    assert_eq!(repr("a'b"), "\"a'b\"");
    assert_eq!(repr("a'b\""), "'a\\'b\"'");
    assert_eq!(repr("\x00\n\u{e9}\u{200b}"), "'\\x00\\n\u{e9}\\u200b'");
}

#[test]
fn dedent_matches_textwrap() {
    assert_eq!(dedent("  a\n    b\n  \n"), "a\n  b\n\n");
    assert_eq!(dedent("\ta\n  b"), "\ta\n  b");
}

#[test]
fn percent_and_format() {
    let s = |x: &str| Value::Str(x.into());
    assert_eq!(
        percent("%s-%r %%", &Value::Tuple(vec![s("a"), s("b")])).unwrap(),
        "a-'b' %"
    );
    assert!(percent("x", &s("a")).is_err());
    assert!(format("{}{{{0!r}", &[s("a")], &[]).is_err());
    assert_eq!(
        format("{0}{{{0!r}}}{k}", &[s("a")], &[("k", s("z"))]).unwrap(),
        "a{'a'}z"
    );
}
