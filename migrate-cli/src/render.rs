//! The edge where results become text or JSON: every command returns an [`Output`] (or fails
//! with a [`CliError`]), and this module prints it in the format asked for and chooses the
//! exit code.
//!
//! With `--format json` stdout holds exactly one document per invocation:
//! `{"format_version": 1, "command": "...", ...the command's fields}` on success, and
//! `{"format_version": 1, "command": "...", "error": {"code": ..., "class": ..., "message":
//! ..., ...typed fields}}` on failure (a check that finds something carries both its fields and
//! the error). Exit codes: 0 success, 1 a migration or a check failed, 2 a usage, configuration
//! or input error (nothing was changed), 3 the database could not be reached or its lock not
//! had in time (worth retrying); 130 after Ctrl-C.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cli::OutputFormat;
use crate::error::CliError;

/// The version of the JSON documents' shape.
pub const FORMAT_VERSION: u32 = 1;

/// A command's result, ready for either format.
#[derive(Debug, Default)]
pub struct Output {
    /// What stdout shows with `--format text` (Alembic's lines, a script, or nothing).
    pub text: String,
    /// The command's fields of the JSON document.
    pub json: Map<String, Value>,
    /// A failure the result itself carries (the findings of `check`, `lint`, `verify`,
    /// `drift`): the result is printed, then the process fails with it.
    pub failure: Option<CliError>,
    /// A summary line for stderr with `--format text`.
    pub note: Option<String>,
}

impl Output {
    /// A result shown as `text`, with `fields` in JSON (a struct or map that serializes to an
    /// object).
    pub fn new(text: impl Into<String>, fields: &impl Serialize) -> Result<Output, CliError> {
        let json = match serde_json::to_value(fields) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                let mut map = Map::new();
                map.insert("result".to_string(), other);
                map
            }
            Err(e) => {
                return Err(CliError::config(format!(
                    "cannot write the result as JSON: {e}"
                )))
            }
        };
        Ok(Output {
            text: text.into(),
            json,
            failure: None,
            note: None,
        })
    }

    /// The same result, failing with `failure` once printed.
    pub fn failing(mut self, failure: Option<CliError>) -> Output {
        self.failure = failure;
        self
    }

    /// The same result with a summary line for stderr (text only).
    pub fn with_note(mut self, note: impl Into<String>) -> Output {
        self.note = Some(note.into());
        self
    }
}

/// Prints `result` of `command` in `format` and returns the exit code.
pub fn finish(command: &str, format: OutputFormat, result: Result<Output, CliError>) -> u8 {
    match format {
        OutputFormat::Text => match result {
            Ok(out) => {
                write_stdout(&out.text);
                if let Some(note) = &out.note {
                    eprintln!("{note}");
                }
                match out.failure {
                    Some(e) => fail_text(&e),
                    None => 0,
                }
            }
            Err(e) => fail_text(&e),
        },
        OutputFormat::Json => {
            let (mut fields, failure) = match result {
                Ok(out) => (out.json, out.failure),
                Err(e) => (Map::new(), Some(e)),
            };
            let code = failure.as_ref().map_or(0, exit_code);
            if let Some(e) = &failure {
                fields.insert("error".to_string(), error_json(e));
                // For the person reading the terminal; the document holds the same.
                eprintln!("FAILED: {}", crate::url::scrub_passwords(&e.to_string()));
            }
            let mut doc = Map::new();
            doc.insert("format_version".to_string(), FORMAT_VERSION.into());
            doc.insert("command".to_string(), command.into());
            doc.extend(fields);
            let text = serde_json::to_string_pretty(&Value::Object(doc))
                .unwrap_or_else(|e| format!("{{\"format_version\":1,\"error\":{{\"code\":\"internal\",\"message\":\"{e}\"}}}}"));
            write_stdout(&format!("{}\n", crate::url::scrub_passwords(&text)));
            code
        }
    }
}

/// A command line clap refuses. With `--format json` (or `MIGRATE_FORMAT=json`) stdout still
/// holds one document, `{"format_version": 1, "command": ..., "error": {"code": "usage", ...}}`,
/// and the exit code is 2; otherwise (and for `--help`, `--version`) clap prints its own text
/// and exits as it does (2 for a usage error).
pub fn command_line_failure(e: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let displays = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if displays || !json_requested(&args) {
        e.exit();
    }
    let message = e
        .render()
        .to_string()
        .lines()
        .next()
        .unwrap_or("invalid command line")
        .trim_start_matches("error: ")
        .to_string();
    let commands = <crate::cli::Cli as clap::CommandFactory>::command();
    let command = args
        .iter()
        .find(|a| {
            commands
                .get_subcommands()
                .any(|c| c.get_name() == a.as_str())
        })
        .map_or(Value::Null, |c| Value::from(c.as_str()));
    let mut error = Map::new();
    error.insert("code".to_string(), "usage".into());
    error.insert(
        "class".to_string(),
        serde_json::to_value(migrate_core::ErrorClass::Usage).unwrap_or(Value::Null),
    );
    error.insert("message".to_string(), message.clone().into());
    let mut doc = Map::new();
    doc.insert("format_version".to_string(), FORMAT_VERSION.into());
    doc.insert("command".to_string(), command);
    doc.insert("error".to_string(), Value::Object(error));
    let text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default();
    eprintln!("FAILED: {}", crate::url::scrub_passwords(&message));
    write_stdout(&format!("{}\n", crate::url::scrub_passwords(&text)));
    2
}

/// Whether the command line (or `MIGRATE_FORMAT`) asks for JSON, read without clap (which
/// refused the line).
fn json_requested(args: &[String]) -> bool {
    let mut asked = std::env::var("MIGRATE_FORMAT").is_ok_and(|v| v == "json");
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        if let Some(value) = arg.strip_prefix("--format=") {
            asked = value == "json";
        } else if arg == "--format" {
            asked = iter.next().is_some_and(|v| v == "json");
        }
    }
    asked
}

/// `FAILED: message` on stderr; the exit code.
fn fail_text(e: &CliError) -> u8 {
    // Every message is built password-free; scrubbing again costs nothing.
    eprintln!("FAILED: {}", crate::url::scrub_passwords(&e.to_string()));
    exit_code(e)
}

/// The exit code of a failure: 1 failed, 2 usage or configuration, 3 unavailable.
pub fn exit_code(e: &CliError) -> u8 {
    if let CliError::Interrupted { .. } = e {
        return 130; // as a shell reports a process ended by SIGINT
    }
    match e.class() {
        migrate_core::ErrorClass::Failed => 1,
        migrate_core::ErrorClass::Unavailable => 3,
        _ => 2,
    }
}

/// The `error` object of a JSON document.
fn error_json(e: &CliError) -> Value {
    let mut value = match e {
        CliError::Core(core) => serde_json::to_value(core).unwrap_or(Value::Null),
        _ => Value::Object(Map::new()),
    };
    if let Value::Object(map) = &mut value {
        map.entry("code").or_insert_with(|| e.code().into());
        map.entry("class")
            .or_insert_with(|| serde_json::to_value(e.class()).unwrap_or(Value::Null));
        map.insert(
            "message".to_string(),
            crate::url::scrub_passwords(&e.to_string()).into(),
        );
        if let CliError::Database(db) = e {
            map.insert("sqlstate".to_string(), db.sqlstate.clone().into());
        }
    }
    value
}

/// Writes to stdout; a closed pipe ends the process with success, as `head` expects.
fn write_stdout(text: &str) {
    crate::write_stdout(format_args!("{text}"));
}
