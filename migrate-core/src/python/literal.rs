//! Decoding Python string literal tokens into the text CPython 3.11 gives them.

use std::borrow::Cow;

/// The prefix letters of a string literal token.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Prefix {
    pub(crate) raw: bool,
    pub(crate) bytes: bool,
    pub(crate) fstring: bool,
}

/// Why a literal could not be decoded.
#[derive(Debug)]
pub(crate) enum LitError {
    /// CPython itself rejects the literal (a `SyntaxError`); `at` is a byte offset in the token.
    Syntax { at: usize, message: String },
    /// The literal is valid but `migrate` does not decode it (`\N{...}`, lone surrogates).
    Unsupported { at: usize, what: String },
}

/// Split a string token into its prefix and its body (the text between the quotes).
pub(crate) fn split_token(tok: &str) -> (Prefix, &str, usize) {
    let bytes = tok.as_bytes();
    let mut p = Prefix::default();
    let mut i = 0;
    while i < bytes.len() && bytes[i] != b'\'' && bytes[i] != b'"' {
        match bytes[i].to_ascii_lowercase() {
            b'r' => p.raw = true,
            b'b' => p.bytes = true,
            b'f' => p.fstring = true,
            _ => {}
        }
        i += 1;
    }
    let q = bytes.get(i).copied().unwrap_or(b'"');
    let triple = bytes.len() >= i + 6 && bytes[i + 1] == q && bytes[i + 2] == q;
    let ql = if triple { 3 } else { 1 };
    let body_start = (i + ql).min(tok.len());
    let body_end = tok.len().saturating_sub(ql).max(body_start);
    (p, &tok[body_start..body_end], body_start)
}

/// Python reads source with universal newlines: `\r\n` and `\r` inside literals become `\n`.
fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if s.contains('\r') {
        Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Decode the body of a `str` literal (not bytes, not an f-string) into `out`.
///
/// `base` is the body's byte offset in the token, for error positions.
pub(crate) fn decode_into(
    body: &str,
    raw: bool,
    base: usize,
    out: &mut String,
) -> Result<(), LitError> {
    let body = normalize_newlines(body);
    if raw || !body.contains('\\') {
        out.push_str(&body);
        return Ok(());
    }
    let b = body.as_bytes();
    let mut i = 0;
    let mut run = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&body[run..i]);
        let esc = i;
        i += 1;
        let Some(&c) = b.get(i) else {
            out.push('\\');
            run = i;
            break;
        };
        i += 1;
        match c {
            b'\n' => {}
            b'\\' => out.push('\\'),
            b'\'' => out.push('\''),
            b'"' => out.push('"'),
            b'a' => out.push('\x07'),
            b'b' => out.push('\x08'),
            b'f' => out.push('\x0c'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'v' => out.push('\x0b'),
            b'0'..=b'7' => {
                let mut v = (c - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                // At most 0o777, always a valid scalar value.
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            b'x' | b'u' | b'U' => {
                let (digits, name) = match c {
                    b'x' => (2, "\\xXX"),
                    b'u' => (4, "\\uXXXX"),
                    _ => (8, "\\UXXXXXXXX"),
                };
                let hex = body
                    .get(i..i + digits)
                    .filter(|h| h.bytes().all(|d| d.is_ascii_hexdigit()));
                let Some(hex) = hex else {
                    let end = (i..b.len())
                        .take_while(|&k| k < i + digits && b[k].is_ascii_hexdigit())
                        .last()
                        .map_or(i, |k| k + 1);
                    return Err(LitError::Syntax {
                        at: base + esc,
                        message: format!(
                            "(unicode error) 'unicodeescape' codec can't decode bytes in position {}-{}: truncated {name} escape",
                            esc,
                            end.saturating_sub(1)
                        ),
                    });
                };
                let v = u32::from_str_radix(hex, 16).unwrap_or(u32::MAX);
                i += digits;
                match char::from_u32(v) {
                    Some(ch) => out.push(ch),
                    None if (0xd800..0xe000).contains(&v) => {
                        return Err(LitError::Unsupported {
                            at: base + esc,
                            what: format!("a lone surrogate escape \\{}{hex}", c as char),
                        })
                    }
                    None => {
                        return Err(LitError::Syntax {
                            at: base + esc,
                            message: format!(
                                "(unicode error) 'unicodeescape' codec can't decode bytes in position {}-{}: illegal Unicode character",
                                esc,
                                i - 1
                            ),
                        })
                    }
                }
            }
            b'N' => {
                return Err(LitError::Unsupported {
                    at: base + esc,
                    what: "a \\N{...} escape (named Unicode character)".into(),
                })
            }
            _ => {
                // An unknown escape keeps its backslash (CPython warns, but keeps it).
                i -= 1;
                out.push('\\');
            }
        }
        run = i;
    }
    if run < b.len() {
        out.push_str(&body[run..]);
    }
    Ok(())
}

/// One piece of an f-string: literal text, or a replacement field.
#[derive(Debug)]
pub(crate) enum FPart<'a> {
    /// Literal text, already decoded.
    Text(String),
    /// `{expr!conv:spec}`: the expression source (trimmed), the conversion, the spec source.
    Field {
        expr: &'a str,
        conversion: Option<char>,
        spec: &'a str,
        at: usize,
    },
}

/// Split an f-string body into literal text and fields, as CPython 3.11 does.
pub(crate) fn fstring_parts(
    body: &str,
    raw: bool,
    base: usize,
) -> Result<Vec<FPart<'_>>, LitError> {
    let b = body.as_bytes();
    let mut parts = Vec::new();
    let mut lit_start = 0;
    let mut text = String::new();
    let mut i = 0;
    let flush = |text: &mut String,
                 from: usize,
                 to: usize,
                 parts: &mut Vec<FPart<'_>>|
     -> Result<(), LitError> {
        if to > from {
            let seg = &body[from..to];
            if !raw
                && seg.ends_with('\\')
                && (seg.len() - seg.trim_end_matches('\\').len()) % 2 == 1
            {
                return Err(LitError::Unsupported {
                    at: base + to - 1,
                    what: "a backslash before a brace in an f-string".into(),
                });
            }
            decode_into(seg, raw, base + from, text)?;
        }
        if !text.is_empty() {
            parts.push(FPart::Text(std::mem::take(text)));
        }
        Ok(())
    };
    while i < b.len() {
        match b[i] {
            b'\\' if !raw && b.get(i + 1) == Some(&b'N') && b.get(i + 2) == Some(&b'{') => {
                return Err(LitError::Unsupported {
                    at: base + i,
                    what: "a \\N{...} escape (named Unicode character)".into(),
                });
            }
            b'{' if b.get(i + 1) == Some(&b'{') => {
                flush(&mut text, lit_start, i + 1, &mut parts)?;
                i += 2;
                lit_start = i;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                flush(&mut text, lit_start, i + 1, &mut parts)?;
                i += 2;
                lit_start = i;
            }
            b'}' => {
                return Err(LitError::Syntax {
                    at: base + i,
                    message: "f-string: single '}' is not allowed".into(),
                })
            }
            b'{' => {
                flush(&mut text, lit_start, i, &mut parts)?;
                let open = i;
                i += 1;
                let expr_start = i;
                let mut depth = 0usize;
                let mut quote: Option<u8> = None;
                let mut conv_at = None;
                let mut spec_at = None;
                while i < b.len() {
                    let c = b[i];
                    if let Some(q) = quote {
                        if c == q {
                            quote = None;
                        }
                    } else {
                        match c {
                            b'\'' | b'"' => quote = Some(c),
                            b'(' | b'[' | b'{' => depth += 1,
                            b')' | b']' => depth = depth.saturating_sub(1),
                            b'}' if depth > 0 => depth -= 1,
                            b'}' => break,
                            b'!' if depth == 0
                                && b.get(i + 1) != Some(&b'=')
                                && conv_at.is_none() =>
                            {
                                conv_at = Some(i)
                            }
                            b':' if depth == 0 => {
                                spec_at = Some(i);
                                // The spec runs to the matching brace (nested fields included).
                                let mut d = 0usize;
                                while i < b.len() {
                                    match b[i] {
                                        b'{' => d += 1,
                                        b'}' if d == 0 => break,
                                        b'}' => d -= 1,
                                        _ => {}
                                    }
                                    i += 1;
                                }
                                break;
                            }
                            _ => {}
                        }
                    }
                    i += 1;
                }
                if i >= b.len() {
                    return Err(LitError::Syntax {
                        at: base + open,
                        message: "f-string: expecting '}'".into(),
                    });
                }
                let expr_end = conv_at.or(spec_at).unwrap_or(i);
                let conversion = match conv_at {
                    Some(c) => {
                        let conv = body[c + 1..spec_at.unwrap_or(i)].trim_end();
                        match conv {
                            "s" | "r" | "a" => conv.chars().next(),
                            _ => {
                                return Err(LitError::Syntax {
                                    at: base + c,
                                    message: "f-string: invalid conversion character: expected 's', 'r', or 'a'".into(),
                                })
                            }
                        }
                    }
                    None => None,
                };
                let spec = spec_at.map_or("", |s| &body[s + 1..i]);
                let expr = body[expr_start..expr_end]
                    .trim_matches(|c: char| c == ' ' || c == '\t' || c == '\n' || c == '\r');
                if expr.is_empty() {
                    return Err(LitError::Syntax {
                        at: base + open,
                        message: "f-string: empty expression not allowed".into(),
                    });
                }
                parts.push(FPart::Field {
                    expr,
                    conversion,
                    spec,
                    at: base + open,
                });
                i += 1;
                lit_start = i;
            }
            _ => i += 1,
        }
    }
    flush(&mut text, lit_start, b.len(), &mut parts)?;
    Ok(parts)
}
