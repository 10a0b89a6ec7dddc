//! New revision file names as Alembic makes them: the message's slug and Alembic's
//! `file_template`, a Python `%`-format string over `rev`, `slug`, `epoch`, `year`, `month`,
//! `day`, `hour`, `minute` and `second` (`%(rev)s_%(slug)s` by default,
//! `%(year)d_%(month).2d_%(day).2d_%(rev)s_%(slug)s`, `%(year)d/%(month).2d/%(rev)s` for
//! sub-folders).

use crate::render::CreateDate;

/// Alembic's default `file_template`.
pub const DEFAULT_FILE_TEMPLATE: &str = "%(rev)s_%(slug)s";

/// Why a `file_template` could not be applied; the message follows Python's where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("file_template `{template}`: {problem}")]
pub struct FileTemplateError {
    /// The template as configured.
    pub template: String,
    /// What is wrong with it.
    pub problem: String,
}

/// The slug Alembic makes of a message: its words (runs of letters, digits and `_`, Python's
/// `\w+`) joined by `_` and lowercased; longer than `truncate` characters, it is cut there at
/// the last `_` and ends with `_`.
///
/// ```
/// use migrate_core::authoring::slug;
/// assert_eq!(slug("Create the tenants table!", 40), "create_the_tenants_table");
/// assert_eq!(slug("add a rather long column to the accounts table", 20), "add_a_rather_long_");
/// ```
pub fn slug(message: &str, truncate: usize) -> String {
    let words: Vec<&str> = message
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let slug = words.join("_").to_lowercase();
    if slug.chars().count() <= truncate {
        return slug;
    }
    let cut: String = slug.chars().take(truncate).collect();
    let kept = match cut.rfind('_') {
        Some(i) => &cut[..i],
        None => cut.as_str(),
    };
    format!("{kept}_")
}

/// One value the template may name.
enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

/// `template % {"rev": ..., "slug": ..., "epoch": ..., "year": ..., ...}` as Python computes
/// it (the conversions `s`, `r`, `a`, `d`, `i`, `u`, `x`, `X`, `o`, with flags, width and
/// precision).
pub fn apply(
    template: &str,
    rev: &str,
    slug: &str,
    date: &CreateDate,
) -> Result<String, FileTemplateError> {
    let fail = |problem: String| FileTemplateError {
        template: template.to_string(),
        problem,
    };
    let lookup = |name: &str| -> Option<Arg> {
        Some(match name {
            "rev" => Arg::Text(rev),
            "slug" => Arg::Text(slug),
            "epoch" => Arg::Number(date.epoch as i64),
            "year" => Arg::Number(date.year),
            "month" => Arg::Number(date.month.into()),
            "day" => Arg::Number(date.day.into()),
            "hour" => Arg::Number(date.hour.into()),
            "minute" => Arg::Number(date.minute.into()),
            "second" => Arg::Number(date.second.into()),
            _ => return None,
        })
    };
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        if chars.get(i) != Some(&'(') {
            return Err(fail(
                "format requires a mapping: write %(rev)s, %(slug)s, %(year)d, ... (and %% for a literal %)"
                    .to_string(),
            ));
        }
        let Some(close) = chars[i..].iter().position(|c| *c == ')') else {
            return Err(fail("incomplete format key".to_string()));
        };
        let name: String = chars[i + 1..i + close].iter().collect();
        i += close + 1;
        let mut flags = String::new();
        while let Some(c) = chars.get(i).filter(|c| "#0- +".contains(**c)) {
            flags.push(*c);
            i += 1;
        }
        let mut width = String::new();
        while let Some(c) = chars.get(i).filter(|c| c.is_ascii_digit()) {
            width.push(*c);
            i += 1;
        }
        let mut precision = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            let mut digits = String::new();
            while let Some(c) = chars.get(i).filter(|c| c.is_ascii_digit()) {
                digits.push(*c);
                i += 1;
            }
            precision = Some(digits.parse::<usize>().unwrap_or(0));
        }
        // Python accepts and ignores a length modifier.
        while chars.get(i).is_some_and(|c| "hlL".contains(*c)) {
            i += 1;
        }
        let Some(&conversion) = chars.get(i) else {
            return Err(fail("incomplete format".to_string()));
        };
        i += 1;
        let arg = lookup(&name).ok_or_else(|| {
            fail(format!(
                "%({name}) names nothing a revision has (KeyError: '{name}'); the names are rev, slug, epoch, year, month, day, hour, minute, second"
            ))
        })?;
        let width = width.parse::<usize>().unwrap_or(0);
        let body = match (conversion, &arg) {
            ('s', Arg::Text(t)) => truncated(t, precision),
            ('s', Arg::Number(n)) => truncated(&n.to_string(), precision),
            ('r' | 'a', Arg::Text(t)) => truncated(&crate::render::py_repr(t), precision),
            ('r' | 'a', Arg::Number(n)) => truncated(&n.to_string(), precision),
            ('d' | 'i' | 'u' | 'x' | 'X' | 'o', Arg::Number(n)) => {
                integer(*n, conversion, &flags, precision)
            }
            ('d' | 'i' | 'u' | 'x' | 'X' | 'o', Arg::Text(_)) => {
                return Err(fail(format!(
                    "%({name}){conversion}: a number is required, not a string (TypeError); %({name})s writes it"
                )))
            }
            (other, _) => {
                return Err(fail(format!(
                    "unsupported format character '{other}' (0x{:x}) at index {}",
                    other as u32,
                    i - 1
                )))
            }
        };
        let numeric = matches!(conversion, 'd' | 'i' | 'u' | 'x' | 'X' | 'o');
        out.push_str(&pad(&body, width, &flags, numeric));
    }
    Ok(out)
}

fn truncated(text: &str, precision: Option<usize>) -> String {
    match precision {
        Some(p) => text.chars().take(p).collect(),
        None => text.to_string(),
    }
}

/// An integer as Python's `%d`/`%x`/`%o` write it; the precision is a minimum digit count.
fn integer(n: i64, conversion: char, flags: &str, precision: Option<usize>) -> String {
    let magnitude = n.unsigned_abs();
    let mut digits = match conversion {
        'x' => format!("{magnitude:x}"),
        'X' => format!("{magnitude:X}"),
        'o' => format!("{magnitude:o}"),
        _ => magnitude.to_string(),
    };
    if let Some(p) = precision {
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    if flags.contains('#') {
        match conversion {
            'x' => digits.insert_str(0, "0x"),
            'X' => digits.insert_str(0, "0X"),
            'o' => digits.insert_str(0, "0o"),
            _ => {}
        }
    }
    let sign = if n < 0 {
        "-"
    } else if flags.contains('+') {
        "+"
    } else if flags.contains(' ') {
        " "
    } else {
        ""
    };
    format!("{sign}{digits}")
}

/// Width padding: left-justified with `-`, zero-filled (after the sign) with `0` for numbers,
/// else right-justified with spaces.
fn pad(body: &str, width: usize, flags: &str, numeric: bool) -> String {
    let len = body.chars().count();
    if len >= width {
        return body.to_string();
    }
    let fill = width - len;
    if flags.contains('-') {
        format!("{body}{}", " ".repeat(fill))
    } else if numeric && flags.contains('0') {
        let sign_len = body
            .find(|c: char| !matches!(c, '-' | '+' | ' '))
            .unwrap_or(0);
        let (sign, digits) = body.split_at(sign_len);
        let (prefix, rest) =
            if digits.starts_with("0x") || digits.starts_with("0X") || digits.starts_with("0o") {
                digits.split_at(2)
            } else {
                ("", digits)
            };
        format!("{sign}{prefix}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> CreateDate {
        // 2026-11-05 07:03:09.120034 UTC
        CreateDate::from_unix(1_793_862_189, 120_034)
    }

    #[test]
    fn templates_format_as_python_does() {
        // Expected values from python3: TEMPLATE % {"rev": "ae10", "slug": "add_x",
        // "epoch": 1793862189, "year": 2026, "month": 11, "day": 5, "hour": 7, "minute": 3,
        // "second": 9}
        let cases = [
            ("%(rev)s_%(slug)s", "ae10_add_x"),
            (
                "%%(year)d_%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d-%(rev)s_%(slug)s",
                "%(year)d_2026_11_05_0703-ae10_add_x",
            ),
            (
                "%(year)d/%(month).2d/%(day).2d_%(hour).2d%(minute).2d_%(second).2d_%(rev)s_%(slug)s",
                "2026/11/05_0703_09_ae10_add_x",
            ),
            ("%(epoch)s_%(rev)s", "1793862189_ae10"),
            ("%(day)03d|%(day)-3d|%(day)+d|%(day) d|%(day)3s", "005|5  |+5| 5|  5"),
            ("%(rev).2s|%(rev)6s|%(rev)-6s|%(rev)r", "ae|  ae10|ae10  |'ae10'"),
            ("%(minute)#x|%(month)X|%(month)#o|%(minute)05.3d", "0x3|B|0o13|00003"),
            ("%(year)ld", "2026"),
        ];
        for (template, expected) in cases {
            assert_eq!(
                apply(template, "ae10", "add_x", &date()).unwrap(),
                expected,
                "{template}"
            );
        }
    }

    #[test]
    fn template_errors_say_what_python_would() {
        let err = |t: &str| apply(t, "ae10", "x", &date()).unwrap_err().to_string();
        assert!(
            err("%(nope)s").contains("KeyError: 'nope'"),
            "{}",
            err("%(nope)s")
        );
        assert!(err("%s_x").contains("format requires a mapping"));
        assert!(err("%(rev)d").contains("a number is required"));
        assert!(err("%(rev)q").contains("unsupported format character 'q' (0x71)"));
    }

    #[test]
    fn slugs_match_alembic() {
        // Alembic: "_".join(re.findall(r"\w+", message)).lower(), cut at truncate_slug_length.
        assert_eq!(slug("", 40), "");
        assert_eq!(
            slug("Add Ünïcode — names, 2nd try", 40),
            "add_ünïcode_names_2nd_try"
        );
        assert_eq!(
            slug("add a column to the tenants table for billing", 40),
            "add_a_column_to_the_tenants_table_for_"
        );
        assert_eq!(slug("abcdefghijklmnop", 10), "abcdefghij_");
    }
}
