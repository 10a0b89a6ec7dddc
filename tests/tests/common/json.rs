//! Reading `migrate --format json` documents: stdout must hold exactly one JSON document with
//! `format_version` 1 and the command's name, success or failure.

use serde_json::{Map, Value};

use super::Run;

/// The one document on `run`'s stdout, checked for `format_version` 1 and `command`. Panics
/// when stdout is empty, holds something besides one document, or the header is wrong.
#[track_caller]
pub fn document(run: &Run, command: &str) -> Value {
    let mut stream = serde_json::Deserializer::from_str(&run.stdout).into_iter::<Value>();
    let doc = match stream.next() {
        Some(Ok(doc)) => doc,
        other => panic!(
            "`migrate {}`: stdout is not a JSON document ({other:?})\n--- stdout\n{}--- stderr\n{}",
            run.args, run.stdout, run.stderr
        ),
    };
    assert!(
        stream.next().is_none(),
        "`migrate {}`: stdout holds more than one document:\n{}",
        run.args,
        run.stdout
    );
    assert!(doc.is_object(), "`migrate {}`: {doc}", run.args);
    assert_eq!(doc["format_version"], 1, "`migrate {}`: {doc}", run.args);
    assert_eq!(doc["command"], command, "`migrate {}`: {doc}", run.args);
    doc
}

/// The document of a successful run (exit 0), with nothing on stderr (no progress without -v).
#[track_caller]
pub fn success(run: &Run, command: &str) -> Value {
    run.ok();
    let doc = document(run, command);
    assert!(
        doc.get("error").is_none(),
        "`migrate {}` succeeded with an error object: {doc}",
        run.args
    );
    assert_eq!(
        run.stderr, "",
        "`migrate {}`: progress or logs on stderr without -v",
        run.args
    );
    doc
}

/// The `error` object of a failed run: exit `status`, `code`, `class`, a message, and the
/// same message on stderr's `FAILED:` line.
#[track_caller]
pub fn failure(
    run: &Run,
    command: &str,
    code: &str,
    class: &str,
    status: i32,
) -> Map<String, Value> {
    let doc = document(run, command);
    let error = doc["error"]
        .as_object()
        .unwrap_or_else(|| panic!("`migrate {}`: no error object: {doc}", run.args))
        .clone();
    assert_eq!(error["code"], code, "`migrate {}`: {doc}", run.args);
    assert_eq!(error["class"], class, "`migrate {}`: {doc}", run.args);
    let message = error["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "`migrate {}`: empty message", run.args);
    assert_eq!(
        run.code,
        Some(status),
        "`migrate {}`: exit status\n{doc}",
        run.args
    );
    let failed = run.failed();
    assert_eq!(
        failed.lines().next(),
        message.lines().next(),
        "`migrate {}`: the FAILED line and the document's message differ",
        run.args
    );
    error
}

/// The exit status of a class: 1 failed, 2 usage, 3 unavailable.
pub fn status_of(class: &str) -> i32 {
    match class {
        "failed" => 1,
        "usage" => 2,
        "unavailable" => 3,
        other => panic!("unknown class {other}"),
    }
}

/// `value[key]` as an array of strings.
#[track_caller]
pub fn strings(value: &Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array: {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{key} holds a non-string: {value}"))
                .to_string()
        })
        .collect()
}

/// The revision objects of a listing (`revisions`), checked for every field users rely on.
#[track_caller]
pub fn revisions(doc: &Value) -> Vec<Value> {
    let list = doc["revisions"]
        .as_array()
        .unwrap_or_else(|| panic!("no revisions array: {doc}"))
        .clone();
    for rev in &list {
        assert!(rev["id"].is_string(), "{rev}");
        assert!(
            rev["message"].is_string() || rev["message"].is_null(),
            "{rev}"
        );
        assert!(rev["path"].is_string(), "{rev}");
        for key in ["parents", "children", "depends_on", "branch_labels"] {
            strings(rev, key);
        }
        for flag in [
            "is_head",
            "is_base",
            "is_branch_point",
            "is_merge_point",
            "current",
        ] {
            assert!(rev[flag].is_boolean(), "{flag} in {rev}");
        }
    }
    list
}

/// The revision `id` of a listing.
#[track_caller]
pub fn revision<'d>(list: &'d [Value], id: &str) -> &'d Value {
    list.iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {list:?}"))
}

/// The ids of a listing, in its order.
pub fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// One step of a run: `(revision, kind, direction, from, to)`.
pub type Step = (String, String, String, Vec<String>, Vec<String>);

/// The steps of a run (`applied`), each checked to carry a duration.
#[track_caller]
pub fn steps(doc: &Value) -> Vec<Step> {
    doc["applied"]
        .as_array()
        .unwrap_or_else(|| panic!("no applied array: {doc}"))
        .iter()
        .map(|s| {
            let ms = s["elapsed_ms"]
                .as_f64()
                .unwrap_or_else(|| panic!("no elapsed_ms: {s}"));
            assert!(ms >= 0.0, "{s}");
            (
                s["revision"].as_str().unwrap_or_default().to_string(),
                s["kind"].as_str().unwrap_or_default().to_string(),
                s["direction"].as_str().unwrap_or_default().to_string(),
                strings(s, "from"),
                strings(s, "to"),
            )
        })
        .collect()
}
