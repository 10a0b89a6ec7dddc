//! Constant values the folder computes, and the string operations Python applies to them
//! (`str()`, `repr()`, `%`, `str.format`, `textwrap.dedent`), each exactly as CPython 3.11.

use super::repr;

/// A value known without running the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A `str`.
    Str(String),
    /// An `int` (literals and results that fit in 128 bits; anything larger is refused).
    Int(i128),
    /// A `float`.
    Float(f64),
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A tuple.
    Tuple(Vec<Value>),
    /// A list.
    List(Vec<Value>),
    /// A dict (keys in insertion order).
    Dict(Vec<(Value, Value)>),
    /// `d.items()`, `d.keys()` or `d.values()` of a dict.
    View(View, Vec<(Value, Value)>),
    /// A one-shot iterator (`enumerate(...)`, `zip(...)`, a generator expression): its items,
    /// and its type name. It is only ever consumed where it is made, never bound to a name,
    /// so that an exhausted iterator is never read twice.
    Iter(&'static str, Vec<Value>),
    /// `text(...)` / `sa.text(...)` of a string.
    Text(String),
    /// The connection `op.get_bind()` returns.
    Bind,
    /// A SQLAlchemy object (a type, a column, a constraint, ...).
    Sa(Box<super::sa::Sa>),
}

/// Which view of a dict a [`Value::View`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// `d.items()`: `(key, value)` tuples.
    Items,
    /// `d.keys()`.
    Keys,
    /// `d.values()`.
    Values,
}

impl Value {
    /// A short name of the value's type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "str",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::None => "None",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::View(View::Items, _) => "dict_items",
            Value::View(View::Keys, _) => "dict_keys",
            Value::View(View::Values, _) => "dict_values",
            Value::Iter(name, _) => name,
            Value::Text(_) => "text() clause",
            Value::Bind => "connection",
            Value::Sa(sa) => sa.type_name(),
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
            Value::Int(n) => n.to_string(),
            Value::Float(f) => float_repr(*f),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
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
            Value::View(kind, pairs) => {
                let items = view_items(*kind, pairs);
                let mut out = format!("{}([", self.type_name());
                join_reprs(&mut out, &items, ascii)?;
                out.push_str("])");
                out
            }
            Value::Iter(..) | Value::Text(_) | Value::Bind | Value::Sa(_) => {
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

    /// The items iterating over the value visits (a `str` gives its characters), or `None`
    /// when it is not an iterable the folder walks.
    pub(crate) fn iterate(self) -> Option<Vec<Value>> {
        match self {
            Value::Str(s) => Some(s.chars().map(|c| Value::Str(c.into())).collect()),
            Value::List(items) | Value::Tuple(items) | Value::Iter(_, items) => Some(items),
            Value::Dict(pairs) => Some(view_items(View::Keys, &pairs)),
            Value::View(kind, pairs) => Some(view_items(kind, &pairs)),
            _ => None,
        }
    }

    /// The value as a number for arithmetic and comparisons (`bool` counts as `int`).
    fn number(&self) -> Option<Num> {
        match self {
            Value::Int(n) => Some(Num::Int(*n)),
            Value::Bool(b) => Some(Num::Int(*b as i128)),
            Value::Float(f) => Some(Num::Float(*f)),
            _ => None,
        }
    }

    /// Python's `len(value)`.
    pub(crate) fn len(&self) -> Option<usize> {
        match self {
            Value::Str(s) => Some(s.chars().count()),
            Value::List(items) | Value::Tuple(items) => Some(items.len()),
            Value::Dict(pairs) | Value::View(_, pairs) => Some(pairs.len()),
            _ => None,
        }
    }
}

/// The items of a dict view.
fn view_items(kind: View, pairs: &[(Value, Value)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|(k, v)| match kind {
            View::Items => Value::Tuple(vec![k.clone(), v.clone()]),
            View::Keys => k.clone(),
            View::Values => v.clone(),
        })
        .collect()
}

/// A number, as arithmetic sees it.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

/// Python's `a + b` for numbers (`None` when one is not a number, or the result is an `int`
/// beyond 128 bits).
pub(crate) fn add(a: &Value, b: &Value) -> Option<Value> {
    Some(match (a.number()?, b.number()?) {
        (Num::Int(x), Num::Int(y)) => Value::Int(x.checked_add(y)?),
        (x, y) => Value::Float(x.as_f64()? + y.as_f64()?),
    })
}

/// Python's `-a` for a number.
pub(crate) fn negate(a: &Value) -> Option<Value> {
    Some(match a.number()? {
        Num::Int(x) => Value::Int(x.checked_neg()?),
        Num::Float(f) => Value::Float(-f),
    })
}

/// Python's `+a` for a number.
pub(crate) fn positive(a: &Value) -> Option<Value> {
    Some(match a.number()? {
        Num::Int(x) => Value::Int(x),
        Num::Float(f) => Value::Float(f),
    })
}

impl Num {
    /// Python's `float(int)`: `None` when the int does not round to a finite float.
    fn as_f64(self) -> Option<f64> {
        match self {
            // i128 -> f64 rounds to nearest, ties to even, as CPython's int.__float__ does.
            Num::Int(n) => Some(n as f64),
            Num::Float(f) => Some(f),
        }
    }
}

/// Python's `a == b` between two dict keys (numbers compare by value across `bool`, `int`
/// and `float`).
pub(crate) fn key_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::None, Value::None) => true,
        (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| key_eq(a, b))
        }
        _ => match (a.number(), b.number()) {
            (Some(x), Some(y)) => num_cmp(x, y) == Some(std::cmp::Ordering::Equal),
            _ => false,
        },
    }
}

/// True for the values Python can hash (and so use as dict keys) that the folder compares
/// exactly: strings, numbers other than NaN, `None` and tuples of these.
pub(crate) fn hashable(v: &Value) -> bool {
    match v {
        Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::None => true,
        Value::Float(f) => !f.is_nan(),
        Value::Tuple(items) => items.iter().all(hashable),
        _ => false,
    }
}

/// Exact comparison of two numbers, as Python compares `int` and `float` (no rounding of the
/// int); `None` for NaN.
fn num_cmp(a: Num, b: Num) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => int_float_cmp(x, y),
        (Num::Float(x), Num::Int(y)) => int_float_cmp(y, x).map(Ordering::reverse),
    }
}

fn int_float_cmp(x: i128, y: f64) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    if y.is_nan() {
        return None;
    }
    // Every f64 at or beyond 2^127 in magnitude is outside i128.
    const LIMIT: f64 = 170141183460469231731687303715884105728.0;
    if y >= LIMIT {
        return Some(Ordering::Less);
    }
    if y < -LIMIT {
        return Some(Ordering::Greater);
    }
    let t = y.trunc();
    let ti = t as i128;
    Some(match x.cmp(&ti) {
        Ordering::Equal if y > t => Ordering::Less,
        Ordering::Equal if y < t => Ordering::Greater,
        o => o,
    })
}

/// Python's `a < b` ordering for `sorted()`: strings with strings, numbers with numbers, tuples
/// item by item. `None` when Python would raise `TypeError` (or a NaN makes the order
/// meaningless).
pub(crate) fn py_cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Tuple(x), Value::Tuple(y)) | (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !key_eq(p, q) {
                    return py_cmp(p, q);
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => num_cmp(a.number()?, b.number()?),
    }
}

/// Python's `repr(x)` of a float: the shortest digits that read back as `x`, in fixed
/// notation when the decimal exponent is between -4 and 16, else as `d.ddde+XX`.
pub(crate) fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` finds how many digits the shortest round-tripping form has; CPython picks,
    // among the forms of that length, the one nearest to `x` (ties to even), which is `x`
    // correctly rounded to that many digits.
    let shortest = format!("{:e}", x.abs());
    let n = shortest
        .split_once('e')
        .map_or(1, |(m, _)| m.chars().filter(char::is_ascii_digit).count());
    let sci = format!("{:.*e}", n.saturating_sub(1), x.abs());
    let sci = if sci.parse::<f64>() == Ok(x.abs()) {
        sci
    } else {
        shortest
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exp + 1; // the value is 0.DIGITS x 10^decpt
    let mut out = String::from(sign);
    if decpt <= -4 || decpt > 16 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        out.push_str(&format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()));
    } else if decpt <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-decpt) as usize));
        out.push_str(&digits);
    } else if decpt as usize >= digits.len() {
        out.push_str(&digits);
        out.push_str(&"0".repeat(decpt as usize - digits.len()));
        out.push_str(".0");
    } else {
        out.push_str(&digits[..decpt as usize]);
        out.push('.');
        out.push_str(&digits[decpt as usize..]);
    }
    out
}

/// The value of a Python numeric literal (`12`, `0x1F`, `1_000`, `1.5e-3`, `.5`), or why it
/// is not folded (complex numbers, ints beyond 128 bits).
pub(crate) fn number_literal(text: &str) -> Result<Value, String> {
    // The common case first: a plain decimal (`40`, `0`), no prefix, underscore or exponent.
    let b = text.as_bytes();
    if !b.is_empty()
        && b.len() <= 18
        && b.iter().all(u8::is_ascii_digit)
        && (b[0] != b'0' || b.len() == 1)
    {
        let n = b.iter().fold(0i128, |n, d| n * 10 + i128::from(d - b'0'));
        return Ok(Value::Int(n));
    }
    let lower = text.to_ascii_lowercase();
    if lower.ends_with('j') {
        return Err(format!("the complex number {text}"));
    }
    // Underscores only between digits of the literal's base (CPython refuses the file
    // otherwise, and so the folder refuses to compute it).
    let b = lower.as_bytes();
    let hex = lower.starts_with("0x");
    let digit = |c: &u8| {
        if hex {
            c.is_ascii_hexdigit()
        } else {
            c.is_ascii_digit()
        }
    };
    for (k, c) in b.iter().enumerate() {
        let after_prefix = k == 2 && b[0] == b'0' && matches!(b[1], b'x' | b'o' | b'b');
        if *c == b'_'
            && !((k > 0 && digit(&b[k - 1]) || after_prefix) && b.get(k + 1).is_some_and(digit))
        {
            return Err(format!("the number {text}"));
        }
    }
    let clean: String = lower.chars().filter(|&c| c != '_').collect();
    let radix = match clean.get(..2) {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    let too_big = || format!("the integer {text} (beyond 128 bits)");
    if let Some(radix) = radix {
        let digits = &clean[2..];
        if digits.is_empty() {
            return Err(format!("the number {text}"));
        }
        return i128::from_str_radix(digits, radix)
            .map(Value::Int)
            .map_err(|_| too_big());
    }
    if clean.contains(['.', 'e']) {
        return clean
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("the number {text}"));
    }
    if clean.len() > 1 && clean.starts_with('0') && clean.bytes().any(|c| c != b'0') {
        return Err(format!("the number {text} (leading zeros)"));
    }
    if !clean.bytes().all(|c| c.is_ascii_digit()) || clean.is_empty() {
        return Err(format!("the number {text}"));
    }
    clean.parse::<i128>().map(Value::Int).map_err(|_| too_big())
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

/// Python's `fmt % arg` for a `str` format, limited to the conversions `%s`, `%r`, `%a`, `%d`
/// (`%i`, `%u`), `%%` and `%(key)s` without flags, width or precision.
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
        if !matches!(conv, 's' | 'r' | 'a' | 'd' | 'i' | 'u') {
            return Err(format!(
                "the % conversion '%{conv}' (only %s, %r, %a, %d, %i and %% are folded)"
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
        match conv {
            'd' | 'i' | 'u' => out.push_str(&integer_text(value, conv)?),
            _ => out.push_str(&value.convert(Some(conv))?),
        }
    }
    out.push_str(rest);
    if !lenient && next < args.len() {
        return Err("not all arguments converted during string formatting".into());
    }
    Ok(out)
}

/// What `%d` prints for `value`: the integer, `int()` of a float (truncated), 0 or 1 for a
/// bool; Python raises `TypeError` for anything else.
fn integer_text(value: &Value, conv: char) -> Result<String, String> {
    match value {
        Value::Int(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok((*b as u8).to_string()),
        Value::Float(f) if f.is_finite() && f.abs() < 1.7e38 => Ok((f.trunc() as i128).to_string()),
        Value::Float(f) => Err(format!("'%{conv}' of the float {}", float_repr(*f))),
        other => Err(format!(
            "TypeError: %{conv} format: a real number is required, not {}",
            other.type_name()
        )),
    }
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

/// The keyword arguments of `json.dumps` the folder computes.
#[derive(Debug, Clone)]
pub(crate) struct JsonOptions {
    /// `ensure_ascii` (default true): every non-ASCII character as `\uXXXX`.
    pub(crate) ensure_ascii: bool,
    /// `sort_keys` (default false).
    pub(crate) sort_keys: bool,
    /// `indent`: `None`, or the text one level of indentation adds.
    pub(crate) indent: Option<String>,
    /// `separators`: between items and between a key and its value.
    pub(crate) separators: Option<(String, String)>,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            ensure_ascii: true,
            sort_keys: false,
            indent: None,
            separators: None,
        }
    }
}

/// Python's `json.dumps(value, **options)`, exactly as CPython's `json` module writes it.
pub(crate) fn json_dumps(value: &Value, options: &JsonOptions) -> Result<String, String> {
    let (item_sep, key_sep) = match &options.separators {
        Some((i, k)) => (i.as_str(), k.as_str()),
        None if options.indent.is_some() => (",", ": "),
        None => (", ", ": "),
    };
    let mut out = String::new();
    let enc = JsonEncoder {
        options,
        item_sep,
        key_sep,
    };
    enc.value(&mut out, value, 0)?;
    Ok(out)
}

struct JsonEncoder<'o> {
    options: &'o JsonOptions,
    item_sep: &'o str,
    key_sep: &'o str,
}

impl JsonEncoder<'_> {
    fn value(&self, out: &mut String, v: &Value, level: usize) -> Result<(), String> {
        match v {
            Value::Str(s) => self.string(out, s),
            Value::None => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Int(n) => out.push_str(&n.to_string()),
            Value::Float(f) => out.push_str(&json_float(*f)),
            Value::List(items) | Value::Tuple(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return Ok(());
                }
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    self.separator(out, n, level + 1);
                    self.value(out, item, level + 1)?;
                }
                self.close(out, level);
                out.push(']');
            }
            Value::Dict(pairs) => {
                if pairs.is_empty() {
                    out.push_str("{}");
                    return Ok(());
                }
                let mut order: Vec<&(Value, Value)> = pairs.iter().collect();
                if self.options.sort_keys {
                    let mut failed = false;
                    order.sort_by(|a, b| {
                        py_cmp(&a.0, &b.0).unwrap_or_else(|| {
                            failed = true;
                            std::cmp::Ordering::Equal
                        })
                    });
                    if failed {
                        return Err("json.dumps(sort_keys=True) of keys Python cannot order".into());
                    }
                }
                out.push('{');
                for (n, (k, item)) in order.into_iter().enumerate() {
                    self.separator(out, n, level + 1);
                    let key = match k {
                        Value::Str(s) => s.clone(),
                        Value::Float(f) => json_float(*f),
                        Value::Bool(true) => "true".into(),
                        Value::Bool(false) => "false".into(),
                        Value::None => "null".into(),
                        Value::Int(n) => n.to_string(),
                        other => {
                            return Err(format!(
                                "TypeError: keys must be str, int, float, bool or None, not {}",
                                other.type_name()
                            ))
                        }
                    };
                    self.string(out, &key);
                    out.push_str(self.key_sep);
                    self.value(out, item, level + 1)?;
                }
                self.close(out, level);
                out.push('}');
            }
            other => {
                return Err(format!(
                    "TypeError: Object of type {} is not JSON serializable",
                    other.type_name()
                ))
            }
        }
        Ok(())
    }

    /// What comes before item `n` of a container at `level`.
    fn separator(&self, out: &mut String, n: usize, level: usize) {
        if n > 0 {
            out.push_str(self.item_sep);
        }
        if let Some(indent) = &self.options.indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(indent);
            }
        }
    }

    /// What comes before the closing bracket of a container at `level`.
    fn close(&self, out: &mut String, level: usize) {
        if let Some(indent) = &self.options.indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(indent);
            }
        }
    }

    fn string(&self, out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c if self.options.ensure_ascii && (c as u32) > 0x7e => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

/// A float as `json.dumps` writes it: `repr`, with `NaN`, `Infinity` and `-Infinity`.
fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        float_repr(f)
    }
}
