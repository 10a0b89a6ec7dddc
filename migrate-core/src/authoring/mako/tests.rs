//! The Mako subset against real Mako: every expected text below is what Mako 1.3 (the one
//! Alembic 1.20.1 installs) rendered from the same template and values, with Alembic's
//! `format_as_comma` as `comma` (`Template(filename=...).render_unicode(**values)` in
//! `/opt/alembic-venv`).

use std::collections::BTreeMap;

use super::*;

const TEMPLATE: &str = r#"## a comment line, not in the output
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
Labels: ${branch_labels | comma,n} / ${repr(branch_labels)} / ${branch_labels}
Deps: ${depends_on} ${depends_on | comma,n} ${repr(depends_on)}
"""
% if branch_labels:
# starts branch ${branch_labels[0]} (of ${len(branch_labels)}), last ${branch_labels[-1]}
% elif depends_on:
# depends on ${depends_on | comma,n}
% else:
# plain revision
% endif
  %% indented literal percent: ${up_revision}
<%text>${not_rendered} % if</%text>
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
a long \
line joined
x = ${"quoted" if message == "first" else 'single'} ${not message} ${message != "x" and "yes" or "no"}
% for label in (branch_labels or ()):
    % if label in ("lab", "other"):
label_${label} = ${repr(label)}  # known
    % else:
label_${label} = ${repr(label + "_x")}
    % endif
% endfor
upgrades = ${upgrades if upgrades else "pass"}   ${ imports or "noimports" } ${not upgrades}
<%doc>
ignored
</%doc>
end ${str(create_date)} ${repr(create_date)} ${repr(message)} ${ up_revision | trim } ${message | h} ${message | u}
tuple ${("a",)} ${()} ${("a", "b") + ("c",)} ${[1, 2]} ${None} ${True} ${sorted(["b", "a"])} ${"x" "y"} ${"a\tb\\"}
"#;

fn strings(items: &[&str]) -> Vec<Value> {
    items.iter().map(|s| Value::Str(s.to_string())).collect()
}

fn values(
    up: &str,
    down: Value,
    labels: Value,
    depends: Value,
    message: &str,
) -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("up_revision".to_string(), Value::Str(up.to_string())),
        ("down_revision".to_string(), down),
        ("branch_labels".to_string(), labels),
        ("depends_on".to_string(), depends),
        ("message".to_string(), Value::Str(message.to_string())),
        (
            "create_date".to_string(),
            // 2026-11-05 07:03:09.120034
            Value::DateTime(CreateDate::from_unix(1_793_862_189, 120_034)),
        ),
        ("comma".to_string(), Value::Function(Function::Comma)),
        ("config".to_string(), Value::Opaque("config")),
    ])
}

fn render(vars: &BTreeMap<String, Value>) -> String {
    Template::parse(TEMPLATE, "t.mako")
        .and_then(|t| t.render(vars))
        .unwrap()
}

#[test]
fn base_revision_renders_as_mako_does() {
    let vars = values(
        "ae1027a6acf",
        Value::None,
        Value::None,
        Value::None,
        "first",
    );
    assert_eq!(
        render(&vars),
        "\"\"\"first\n\nRevision ID: ae1027a6acf\nRevises: \nCreate Date: 2026-11-05 07:03:09.120034\nLabels:  / None / None\nDeps: None  None\n\"\"\"\n# plain revision\n  % indented literal percent: ae1027a6acf\n${not_rendered} % if\nrevision = 'ae1027a6acf'\ndown_revision = None\na long line joined\nx = quoted False yes\nupgrades = pass   noimports True\n\nend 2026-11-05 07:03:09.120034 datetime.datetime(2026, 11, 5, 7, 3, 9, 120034) 'first' ae1027a6acf first first\ntuple ('a',) () ('a', 'b', 'c') [1, 2] None True ['a', 'b'] xy a\tb\\\n"
    );
}

#[test]
fn merge_with_labels_and_dependencies_renders_as_mako_does() {
    let vars = values(
        "bbb2",
        Value::Tuple(strings(&["x1", "y2"])),
        Value::Tuple(strings(&["lab", "zz"])),
        Value::List(strings(&["d1", "d2"])),
        "it's <b> & \"q\"",
    );
    assert_eq!(
        render(&vars),
        "\"\"\"it's <b> & \"q\"\n\nRevision ID: bbb2\nRevises: x1, y2\nCreate Date: 2026-11-05 07:03:09.120034\nLabels: lab, zz / ('lab', 'zz') / ('lab', 'zz')\nDeps: ['d1', 'd2'] d1, d2 ['d1', 'd2']\n\"\"\"\n# starts branch lab (of 2), last zz\n  % indented literal percent: bbb2\n${not_rendered} % if\nrevision = 'bbb2'\ndown_revision = ('x1', 'y2')\na long line joined\nx = single False yes\nlabel_lab = 'lab'  # known\nlabel_zz = 'zz_x'\nupgrades = pass   noimports True\n\nend 2026-11-05 07:03:09.120034 datetime.datetime(2026, 11, 5, 7, 3, 9, 120034) 'it\\'s <b> & \"q\"' bbb2 it&#39;s &lt;b&gt; &amp; &#34;q&#34; it%27s+%3Cb%3E+%26+%22q%22\ntuple ('a',) () ('a', 'b', 'c') [1, 2] None True ['a', 'b'] xy a\tb\\\n"
    );
}

#[test]
fn single_parent_and_dependency_render_as_mako_does() {
    let vars = values(
        "ccc3",
        Value::Str("x1".into()),
        Value::None,
        Value::Str("d1".into()),
        "x",
    );
    assert_eq!(
        render(&vars),
        "\"\"\"x\n\nRevision ID: ccc3\nRevises: x1\nCreate Date: 2026-11-05 07:03:09.120034\nLabels:  / None / None\nDeps: d1 d1 'd1'\n\"\"\"\n# depends on d1\n  % indented literal percent: ccc3\n${not_rendered} % if\nrevision = 'ccc3'\ndown_revision = 'x1'\na long line joined\nx = single False no\nupgrades = pass   noimports True\n\nend 2026-11-05 07:03:09.120034 datetime.datetime(2026, 11, 5, 7, 3, 9, 120034) 'x' ccc3 x x\ntuple ('a',) () ('a', 'b', 'c') [1, 2] None True ['a', 'b'] xy a\tb\\\n"
    );
}

/// The error for `source` (parsing, then rendering with the base revision's values).
fn error(source: &str) -> TemplateError {
    let vars = values("ae10", Value::None, Value::None, Value::None, "m");
    match Template::parse(source, "script.py.mako") {
        Err(e) => e,
        Ok(t) => t.render(&vars).expect_err("the template should be refused"),
    }
}

#[test]
fn constructs_beyond_the_subset_are_refused_by_line_and_name() {
    // Each is valid Mako that migrate cannot render without running Python.
    let cases = [
        (
            "<%!\nimport re\n%>x",
            1,
            "`<%!` (a module-level Python block)",
        ),
        ("a\n<% x = 1 %>", 2, "`<% %>` (a Python block)"),
        (
            "a\nb\n<%include file=\"x.mako\"/>",
            3,
            "the `<%include>` tag",
        ),
        ("<%def name=\"f()\">x</%def>", 1, "the `<%def>` tag"),
        (
            "x\n${create_date.strftime('%Y')}",
            2,
            "attribute access (`.`) (in `create_date.strftime('%Y')`)",
        ),
        (
            "${config.get_main_option('databases')}",
            1,
            "attribute access (`.`)",
        ),
        (
            "% while True:\nx\n% endwhile",
            1,
            "the control line `% while True:`",
        ),
        ("${[x for x in branch_labels]}", 1, "a comprehension"),
        ("${up_revision * 2}", 1, "the operator `*`"),
        ("${up_revision | myfilter}", 1, "the filter `myfilter`"),
        ("${config}", 1, "writing `config`"),
    ];
    for (source, line, construct) in cases {
        let e = error(source);
        assert_eq!(e.line, line, "{source}: {e}");
        assert!(
            e.problem.starts_with(construct)
                && e.problem
                    .contains("beyond the part of Mako migrate renders")
                && e.problem.contains("alembic revision"),
            "{source}: {e}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("script.py.mako:{line}: ")),
            "{e}"
        );
    }
}

#[test]
fn undefined_names_are_false_in_tests_and_an_error_when_written() {
    let vars = values("ae10", Value::None, Value::None, Value::None, "m");
    let t = Template::parse(
        "${upgrades if upgrades else 'pass'}|${not imports}\n% if downgrades:\nx\n% endif\n",
        "t",
    )
    .unwrap();
    assert_eq!(t.render(&vars).unwrap(), "pass|True\n");
    let e = error("ok\n    ${upgrades}\n");
    assert_eq!(e.line, 2);
    assert!(
        e.problem
            .starts_with("`upgrades` is not defined for a new revision"),
        "{e}"
    );
}

#[test]
fn malformed_templates_name_the_line() {
    for (source, line, words) in [
        ("x\n% if message:\ny\n", 2, "`% if` without `% endif`"),
        ("% endif\n", 1, "`% endif` without `% if`"),
        ("% if message\n% endif\n", 1, "must end with `:`"),
        ("a ${message\n", 1, "without its closing `}`"),
        (
            "% if message:\n% else:\n% elif up_revision:\n% endif\n",
            3,
            "after `% else`",
        ),
        ("${branch_labels[5]}", 1, "None cannot be indexed"),
        ("<%text>x", 1, "without `</%text>`"),
    ] {
        let e = error(source);
        assert_eq!(e.line, line, "{source}: {e}");
        assert!(e.problem.contains(words), "{source}: {e}");
    }
}
