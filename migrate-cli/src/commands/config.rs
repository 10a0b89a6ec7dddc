//! `migrate config`: every resolved setting, its value and where it came from.

use super::Context;
use crate::config::ResolvedSetting;
use crate::error::CliError;
use crate::render::Output;

/// Prints one line per setting, `key = value  (source)`, then the notes (sources set but
/// not used). URLs are redacted.
pub fn show(ctx: &Context) -> Result<Output, CliError> {
    let mut text = String::new();
    for line in lines(&ctx.settings.resolved, &ctx.settings.notes) {
        text.push_str(&line);
        text.push('\n');
    }
    #[derive(serde::Serialize)]
    struct Shown<'s> {
        settings: &'s [ResolvedSetting],
        notes: &'s [String],
    }
    Output::new(
        text,
        &Shown {
            settings: &ctx.settings.resolved,
            notes: &ctx.settings.notes,
        },
    )
}

/// The text `show` prints.
fn lines(resolved: &[ResolvedSetting], notes: &[String]) -> Vec<String> {
    let width = resolved.iter().map(|r| r.key.len()).max().unwrap_or(0);
    let mut out: Vec<String> = resolved
        .iter()
        .map(|r| {
            let value = r.value.as_deref().unwrap_or("(not set)");
            format!("{:<width$} = {value}  ({})", r.key, r.source)
        })
        .collect();
    out.extend(notes.iter().map(|n| format!("note: {n}")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_aligned_line_per_setting_then_the_notes() {
        let resolved = [
            ResolvedSetting {
                key: "url",
                value: Some("postgresql://u:***@h/db".into()),
                source: "DATABASE_URL in .env".into(),
            },
            ResolvedSetting {
                key: "file_template",
                value: None,
                source: "not set".into(),
            },
        ];
        assert_eq!(
            lines(
                &resolved,
                &["PG* variables (PGHOST in the environment): set but not used".into()]
            ),
            [
                "url           = postgresql://u:***@h/db  (DATABASE_URL in .env)",
                "file_template = (not set)  (not set)",
                "note: PG* variables (PGHOST in the environment): set but not used",
            ]
        );
    }
}
