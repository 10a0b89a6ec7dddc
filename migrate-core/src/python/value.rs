//! Constant values the folder computes, and the string operations Python applies to them
//! (`str()`, `repr()`, `%`, `str.format`, `textwrap.dedent`), each exactly as CPython 3.11.

use super::repr;

/// A value known without running the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A `str`.
    Str(String),
    /// `None`.
    None,
    /// A tuple.
    Tuple(Vec<Value>),
    /// A list.
    List(Vec<Value>),
    /// A dict (keys in insertion order).
    Dict(Vec<(Value, Value)>),
    /// `text(...)` / `sa.text(...)` of a string.
    Text(String),
    /// The connection `op.get_bind()` returns.
    Bind,
}

impl Value {
    /// A short name of the value's type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "str",
            Value::None => "None",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Text(_) => "text() clause",
            Value::Bind => "connection",
        }
    }

    /// Python's `str(value)`.
    pub(crate) fn to_str(&self) -> Result<String, String> {
        match self {
            Value::Str(s) => Ok(s.clone()),
            _ => self.to_repr(false),
        }
    }

    /// Python's `repr(value)` (or `ascii(value)` when `ascii`).
    pub(crate) fn to_repr(&self, ascii: bool) -> Result<String, String> {
        Ok(match self {
            Value::Str(s) if ascii => repr::ascii(s),
            Value::Str(s) => repr::repr(s),
            Value::None => "None".into(),
            Value::Tuple(items) => {
                let mut out = String::from("(");
                join_reprs(&mut out, items, ascii)?;
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
                out
            }
            Value::List(items) => {
                let mut out = String::from("[");
                join_reprs(&mut out, items, ascii)?;
                out.push(']');
                out
            }
            Value::Dict(items) => {
                let mut out = String::from("{");
                for (n, (k, v)) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&k.to_repr(ascii)?);
                    out.push_str(": ");
                    out.push_str(&v.to_repr(ascii)?);
                }
                out.push('}');
                out
            }
            Value::Text(_) | Value::Bind => {
                return Err(format!("the text of a {} object", self.type_name()))
            }
        })
    }

    /// Python's `format(value, "")` with a conversion (`!s`, `!r`, `!a`) applied first.
    pub(crate) fn convert(&self, conversion: Option<char>) -> Result<String, String> {
        match conversion {
            Some('r') => self.to_repr(false),
            Some('a') => self.to_repr(true),
            _ => self.to_str(),
        }
    }
}

fn join_reprs(out: &mut String, items: &[Value], ascii: bool) -> Result<(), String> {
    for (n, v) in items.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        out.push_str(&v.to_repr(ascii)?);
    }
    Ok(())
}

/// Python's `fmt % arg` for a `str` format, limited to the conversions `%s`, `%r`, `%a`, `%%`
/// and `%(key)s` without flags, width or precision.
pub(crate) fn percent(fmt: &str, arg: &Value) -> Result<String, String> {
    type Pairs<'v> = Option<&'v [(Value, Value)]>;
    let (args, mapping): (&[Value], Pairs) = match arg {
        Value::Tuple(items) => (items, None),
        Value::Dict(items) => (&[], Some(items)),
        other => (std::slice::from_ref(other), None),
    };
    // CPython treats any non-tuple, non-str argument with `__getitem__` as a mapping: it then
    // never complains about unused arguments.
    let lenient = matches!(arg, Value::List(_) | Value::Dict(_));
    let mut next = 0;
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut rest = fmt;
    while let Some(p) = rest.find('%') {
        out.push_str(&rest[..p]);
        rest = &rest[p + 1..];
        let mut key = None;
        if let Some(after) = rest.strip_prefix('(') {
            let mut depth = 1;
            let mut end = None;
            for (k, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(k);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let end = end.ok_or("incomplete format key")?;
            key = Some(&after[..end]);
            rest = &after[end + 1..];
        }
        let Some(conv) = rest.chars().next() else {
            return Err("incomplete format".into());
        };
        rest = &rest[conv.len_utf8()..];
        if conv == '%' && key.is_none() {
            out.push('%');
            continue;
        }
        if !matches!(conv, 's' | 'r' | 'a') {
            return Err(format!(
                "the % conversion '%{conv}' (only %s, %r, %a and %% are folded)"
            ));
        }
        let value = match key {
            Some(key) => {
                let map = mapping.ok_or("format requires a mapping")?;
                map.iter()
                    .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
                    .map(|(_, v)| v)
                    .ok_or_else(|| format!("KeyError: {}", repr::repr(key)))?
            }
            None => {
                if mapping.is_some() {
                    // A dict given as the only argument is formatted whole by `%s`.
                    if next > 0 {
                        return Err("not enough arguments for format string".into());
                    }
                    next += 1;
                    arg
                } else {
                    let v = args
                        .get(next)
                        .ok_or("not enough arguments for format string")?;
                    next += 1;
                    v
                }
            }
        };
        out.push_str(&value.convert(Some(conv))?);
    }
    out.push_str(rest);
    if !lenient && next < args.len() {
        return Err("not all arguments converted during string formatting".into());
    }
    Ok(out)
}

/// Python's `fmt.format(*args, **kwargs)`, for fields without format specs, attributes or
/// indexes.
pub(crate) fn format(
    fmt: &str,
    args: &[Value],
    kwargs: &[(&str, Value)],
) -> Result<String, String> {
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut auto: Option<bool> = None;
    let mut next = 0usize;
    let mut chars = fmt.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err("Single '}' encountered in format string".into()),
            '{' => {
                let inner_start = i + 1;
                let mut end = None;
                for (k, c) in chars.by_ref() {
                    if c == '{' {
                        return Err("a nested replacement field in a format spec".into());
                    }
                    if c == '}' {
                        end = Some(k);
                        break;
                    }
                }
                let end = end.ok_or("expected '}' before end of string")?;
                let field = &fmt[inner_start..end];
                let (field, spec) = match field.find(':') {
                    Some(k) => (&field[..k], &field[k + 1..]),
                    None => (field, ""),
                };
                let (name, conversion) = match field.find('!') {
                    Some(k) => {
                        let conv = &field[k + 1..];
                        match conv {
                            "s" | "r" | "a" => (&field[..k], conv.chars().next()),
                            _ => return Err("Unknown conversion specifier".into()),
                        }
                    }
                    None => (field, None),
                };
                if !spec.is_empty() {
                    return Err(format!("the format spec ':{spec}'"));
                }
                if name.contains(['.', '[']) {
                    return Err(format!(
                        "the field '{{{name}}}' (attributes and indexes are not folded)"
                    ));
                }
                let value = if name.is_empty() {
                    if auto == Some(false) {
                        return Err("cannot switch from manual field specification to automatic field numbering".into());
                    }
                    auto = Some(true);
                    next += 1;
                    args.get(next - 1).ok_or_else(|| format!("IndexError: Replacement index {} out of range for positional args tuple", next - 1))?
                } else if name.bytes().all(|b| b.is_ascii_digit()) {
                    if auto == Some(true) {
                        return Err("cannot switch from automatic field numbering to manual field specification".into());
                    }
                    auto = Some(false);
                    let n: usize = name.parse().map_err(|_| "index too large")?;
                    args.get(n).ok_or_else(|| format!("IndexError: Replacement index {n} out of range for positional args tuple"))?
                } else {
                    kwargs
                        .iter()
                        .rev()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v)
                        .ok_or_else(|| format!("KeyError: {}", repr::repr(name)))?
                };
                out.push_str(&value.convert(conversion)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Python's `textwrap.dedent(text)`.
pub(crate) fn dedent(text: &str) -> String {
    // Lines made only of spaces and tabs become empty.
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            if !l.is_empty() && l.bytes().all(|b| b == b' ' || b == b'\t') {
                ""
            } else {
                l
            }
        })
        .collect();
    let mut margin: Option<&str> = None;
    for line in &lines {
        if line.is_empty() {
            continue;
        }
        let indent_len = line.len() - line.trim_start_matches([' ', '\t']).len();
        let indent = &line[..indent_len];
        margin = Some(match margin {
            None => indent,
            Some(m) if indent.starts_with(m) => m,
            Some(m) if m.starts_with(indent) => indent,
            Some(m) => {
                let common = m
                    .bytes()
                    .zip(indent.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &m[..common]
            }
        });
    }
    let margin = margin.unwrap_or("");
    let mut out = String::with_capacity(text.len());
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(if margin.is_empty() {
            line
        } else {
            line.strip_prefix(margin).unwrap_or(line)
        });
    }
    out
}
