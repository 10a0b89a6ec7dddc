//! The constant folder: string expressions over literals and known constants, and the
//! straight-line `upgrade()` / `downgrade()` bodies made of `op.execute(...)` calls.
//!
//! Every value is computed exactly as CPython would; anything the folder does not know is
//! reported as [`Stop::Unrunnable`] with its position, never guessed.

use super::lexer::{column_of, Kind, Token};
use super::literal::{decode_into, fstring_parts, split_token, FPart, LitError};
use super::module::{Binding, Names};
use super::repr;
use super::value::{self, Value};
use crate::revision::{Migration, SqlBlock, Unrunnable};

/// Why folding stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A construct `migrate` does not turn into SQL.
    Unrunnable(Unrunnable),
    /// A genuine syntax error (CPython would refuse the file).
    Syntax(Syntax),
}

/// A syntax error at a byte offset.
#[derive(Debug)]
pub(crate) struct Syntax {
    pub(crate) line: usize,
    pub(crate) line_start: usize,
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// Python's soft and hard keywords that cannot start an expression we fold.
const KEYWORDS: &[&str] = &[
    "False", "await", "else", "import", "pass", "break", "except", "in", "raise", "True", "class",
    "finally", "is", "return", "and", "continue", "for", "lambda", "try", "as", "def", "from",
    "nonlocal", "while", "assert", "del", "global", "not", "with", "async", "elif", "if", "or",
    "yield",
];

/// The qualified names `text(...)` may be imported as.
const TEXT_PATHS: &[&str] = &[
    "sqlalchemy.text",
    "sqlalchemy.sql.text",
    "sqlalchemy.sql.expression.text",
    "sqlalchemy.sql.elements.text",
];

/// Folding state: the tokens, the module's names and the function's locals.
pub(crate) struct Folder<'a, 's> {
    pub(crate) src: &'s str,
    pub(crate) toks: &'a [Token],
    pub(crate) names: &'a Names<'s>,
    pub(crate) locals: Vec<(&'s str, Value)>,
    /// Names the function assigns anywhere in its body: Python makes them local throughout.
    assigned: Vec<&'s str>,
    /// Blocks emitted so far.
    blocks: Vec<SqlBlock>,
    /// An `op.execute("COMMIT")` was seen: later blocks run outside a transaction.
    after_commit: bool,
}

type Folded<T> = Result<T, Stop>;

/// Positional and keyword arguments of a call.
type Args<'s> = (Vec<Value>, Vec<(&'s str, Value)>);

impl<'a, 's> Folder<'a, 's> {
    /// A folder over `toks` with the module's `names`.
    pub(crate) fn new(src: &'s str, toks: &'a [Token], names: &'a Names<'s>) -> Self {
        Folder {
            src,
            toks,
            names,
            locals: Vec::new(),
            assigned: Vec::new(),
            blocks: Vec::new(),
            after_commit: false,
        }
    }

    fn tok(&self, i: usize) -> &Token {
        &self.toks[i.min(self.toks.len() - 1)]
    }

    fn text(&self, i: usize) -> &'s str {
        let t = *self.tok(i);
        &self.src[t.start as usize..t.end as usize]
    }

    fn is(&self, i: usize, s: &str) -> bool {
        self.tok(i).is(self.src, s)
    }

    fn is_name(&self, i: usize) -> bool {
        self.tok(i).kind == Kind::Name
    }

    /// An unrunnable construct at token `i`.
    pub(crate) fn unrunnable(&self, i: usize, construct: impl Into<String>) -> Stop {
        let t = self.tok(i);
        Stop::Unrunnable(Unrunnable {
            line: t.line as usize,
            column: t.column(self.src),
            construct: construct.into(),
        })
    }

    /// Line and line start of byte `offset`, which lies inside token `i`.
    fn position_in(&self, i: usize, offset: usize) -> (usize, usize) {
        let t = self.tok(i);
        let (mut line, mut line_start) = (t.line as usize, t.line_start as usize);
        let b = self.src.as_bytes();
        let mut k = t.start as usize;
        while k < offset.min(b.len()) {
            if b[k] == b'\n' || (b[k] == b'\r' && b.get(k + 1) != Some(&b'\n')) {
                line += 1;
                line_start = k + 1;
            }
            k += 1;
        }
        (line, line_start)
    }

    fn lit_error(&self, i: usize, token_base: usize, e: LitError) -> Stop {
        let (at, msg, syntax) = match e {
            LitError::Syntax { at, message } => (at, message, true),
            LitError::Unsupported { at, what } => (at, what, false),
        };
        let offset = token_base + at;
        let (line, line_start) = self.position_in(i, offset);
        if syntax {
            Stop::Syntax(Syntax {
                line,
                line_start,
                offset,
                message: msg,
            })
        } else {
            Stop::Unrunnable(Unrunnable {
                line,
                column: column_of(self.src, line_start, offset),
                construct: msg,
            })
        }
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| *n == name) {
            return Some(v);
        }
        if self.assigned.contains(&name) {
            return None;
        }
        match self.names.get(name) {
            Some(Binding::Value(v)) => Some(v),
            _ => None,
        }
    }

    fn set_local(&mut self, name: &'s str, value: Value) {
        if let Some(slot) = self.locals.iter_mut().find(|(n, _)| *n == name) {
            slot.1 = value;
        } else {
            self.locals.push((name, value));
        }
    }

    /// Resolve the dotted name starting at token `*i` to its qualified import path
    /// (`sa.text` -> `sqlalchemy.text`), advancing past it. `None` when the first name is not an
    /// import.
    fn dotted_path(&self, i: &mut usize) -> Option<String> {
        let first = self.text(*i);
        let base = match self.names.get(first) {
            Some(Binding::Path(p)) if !self.assigned.contains(&first) => p.clone(),
            _ => return None,
        };
        let mut path = base;
        *i += 1;
        while self.is(*i, ".") && self.is_name(*i + 1) {
            path.push('.');
            path.push_str(self.text(*i + 1));
            *i += 2;
        }
        Some(path)
    }

    /// The source text from token `from` to token `to` (inclusive), for messages.
    fn written(&self, from: usize, to: usize) -> &'s str {
        let (a, b) = (self.tok(from).start as usize, self.tok(to).end as usize);
        self.src.get(a..b.max(a)).unwrap_or("")
    }

    // ----- expressions -------------------------------------------------------------------

    /// `a + b + ...`
    pub(crate) fn expr(&mut self, i: &mut usize) -> Folded<Value> {
        let mut v = self.term(i)?;
        while self.is(*i, "+") {
            let op = *i;
            *i += 1;
            let r = self.term(i)?;
            v = match (v, r) {
                (Value::Str(mut a), Value::Str(b)) => {
                    a.push_str(&b);
                    Value::Str(a)
                }
                (Value::Tuple(mut a), Value::Tuple(b)) => {
                    a.extend(b);
                    Value::Tuple(a)
                }
                (Value::List(mut a), Value::List(b)) => {
                    a.extend(b);
                    Value::List(a)
                }
                (a, b) => {
                    return Err(self.unrunnable(
                        op,
                        format!("'+' of {} and {}", a.type_name(), b.type_name()),
                    ))
                }
            };
        }
        Ok(v)
    }

    /// `a % b % ...`
    fn term(&mut self, i: &mut usize) -> Folded<Value> {
        let mut v = self.postfix(i)?;
        while self.is(*i, "%") {
            let op = *i;
            *i += 1;
            let r = self.postfix(i)?;
            v = match v {
                Value::Str(fmt) => Value::Str(
                    value::percent(&fmt, &r)
                        .map_err(|e| self.unrunnable(op, format!("'%' formatting: {e}")))?,
                ),
                other => return Err(self.unrunnable(op, format!("'%' on a {}", other.type_name()))),
            };
        }
        Ok(v)
    }

    /// An atom followed by method calls.
    fn postfix(&mut self, i: &mut usize) -> Folded<Value> {
        let mut v = self.atom(i)?;
        loop {
            if self.is(*i, ".") && self.is_name(*i + 1) {
                let dot = *i;
                let method = self.text(*i + 1);
                if !self.is(*i + 2, "(") {
                    return Err(
                        self.unrunnable(dot, format!("attribute .{method} of a {}", v.type_name()))
                    );
                }
                let known = match &v {
                    Value::Str(_) => {
                        matches!(method, "format" | "strip" | "lstrip" | "rstrip" | "join")
                    }
                    _ => false,
                };
                if !known {
                    return Err(self.unrunnable(
                        dot,
                        match &v {
                            Value::Str(_) => format!("str.{method}(...)"),
                            other => format!(".{method}(...) on a {}", other.type_name()),
                        },
                    ));
                }
                *i += 2;
                let (args, kwargs) = self.call_args(i)?;
                v = self.method(dot, v, method, args, kwargs)?;
            } else if self.is(*i, "[") {
                return Err(self.unrunnable(*i, "subscript [...]"));
            } else if self.is(*i, "(") {
                return Err(self.unrunnable(*i, format!("call of a {}", v.type_name())));
            } else {
                return Ok(v);
            }
        }
    }

    fn method(
        &self,
        at: usize,
        v: Value,
        method: &str,
        args: Vec<Value>,
        kwargs: Vec<(&'s str, Value)>,
    ) -> Folded<Value> {
        let Value::Str(s) = v else {
            return Err(self.unrunnable(at, format!(".{method}(...) on a {}", v.type_name())));
        };
        let fail = |e: String| self.unrunnable(at, format!(".{method}(...): {e}"));
        match method {
            "format" => Ok(Value::Str(value::format(&s, &args, &kwargs).map_err(fail)?)),
            "strip" | "lstrip" | "rstrip" if args.is_empty() && kwargs.is_empty() => {
                let (l, r) = match method {
                    "strip" => (true, true),
                    "lstrip" => (true, false),
                    _ => (false, true),
                };
                Ok(Value::Str(repr::strip(&s, l, r).to_string()))
            }
            "join" if args.len() == 1 && kwargs.is_empty() => match &args[0] {
                Value::List(items) | Value::Tuple(items) => {
                    let mut out = String::new();
                    for (n, item) in items.iter().enumerate() {
                        let Value::Str(item) = item else {
                            return Err(fail(format!("an item is a {}", item.type_name())));
                        };
                        if n > 0 {
                            out.push_str(&s);
                        }
                        out.push_str(item);
                    }
                    Ok(Value::Str(out))
                }
                other => Err(fail(format!("joining a {}", other.type_name()))),
            },
            _ => Err(self.unrunnable(at, format!("str.{method}(...)"))),
        }
    }

    /// `(args...)` starting at the `(` token; leaves `*i` after the `)`.
    fn call_args(&mut self, i: &mut usize) -> Folded<Args<'s>> {
        *i += 1;
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        while !self.is(*i, ")") {
            if self.is(*i, "*") || self.is(*i, "**") {
                return Err(self.unrunnable(*i, "argument unpacking"));
            }
            if self.is_name(*i) && self.is(*i + 1, "=") {
                let name = self.text(*i);
                *i += 2;
                let v = self.expr(i)?;
                kwargs.push((name, v));
            } else {
                if !kwargs.is_empty() {
                    return Err(
                        self.unrunnable(*i, "a positional argument after keyword arguments")
                    );
                }
                args.push(self.expr(i)?);
            }
            if self.is(*i, ",") {
                *i += 1;
            } else if !self.is(*i, ")") {
                return Err(self.unexpected(*i));
            }
        }
        *i += 1;
        Ok((args, kwargs))
    }

    /// A token the folder did not expect in an expression.
    fn unexpected(&self, i: usize) -> Stop {
        let t = self.tok(i);
        let what = match t.kind {
            Kind::Name => format!("'{}' in an expression", self.text(i)),
            Kind::Number => "a number".to_string(),
            Kind::Op => format!("operator '{}'", self.text(i)),
            _ => "an incomplete expression".to_string(),
        };
        self.unrunnable(i, what)
    }

    fn atom(&mut self, i: &mut usize) -> Folded<Value> {
        let t = *self.tok(*i);
        match t.kind {
            Kind::Str => self.strings(i),
            Kind::Name => {
                let name = self.text(*i);
                if name == "None" {
                    *i += 1;
                    return Ok(Value::None);
                }
                if KEYWORDS.contains(&name) {
                    return Err(self.unexpected(*i));
                }
                if let Some(v) = self.lookup(name) {
                    let v = v.clone();
                    *i += 1;
                    return Ok(v);
                }
                if self.assigned.contains(&name) {
                    return Err(self.unrunnable(
                        *i,
                        format!("local variable '{name}' referenced before assignment"),
                    ));
                }
                let start = *i;
                let Some(path) = self.dotted_path(i) else {
                    // Name the call when it is one (`seed(...)`, `engine.connect(...)`).
                    let mut k = start + 1;
                    while self.is(k, ".") && self.is_name(k + 1) {
                        k += 2;
                    }
                    if self.is(k, "(") {
                        let written = self.written(start, k - 1);
                        return Err(self.unrunnable(start, format!("{written}(...)")));
                    }
                    return Err(
                        self.unrunnable(start, format!("name '{name}' is not a string constant"))
                    );
                };
                let written = self.written(start, *i - 1);
                if !self.is(*i, "(") {
                    return Err(self.unrunnable(start, written.to_string()));
                }
                if !(TEXT_PATHS.contains(&path.as_str())
                    || path == "textwrap.dedent"
                    || path == "alembic.op.get_bind")
                {
                    return Err(self.unrunnable(start, format!("{written}(...)")));
                }
                let (args, kwargs) = self.call_args(i)?;
                self.call(start, &path, written, args, kwargs)
            }
            Kind::Op => match self.text(*i) {
                "(" => {
                    let open = *i;
                    *i += 1;
                    if self.is(*i, ")") {
                        *i += 1;
                        return Ok(Value::Tuple(Vec::new()));
                    }
                    let first = self.expr(i)?;
                    if self.is(*i, ")") {
                        *i += 1;
                        return Ok(first);
                    }
                    let mut items = vec![first];
                    while self.is(*i, ",") {
                        *i += 1;
                        if self.is(*i, ")") {
                            break;
                        }
                        items.push(self.expr(i)?);
                    }
                    if !self.is(*i, ")") {
                        let _ = open;
                        return Err(self.unexpected(*i));
                    }
                    *i += 1;
                    Ok(Value::Tuple(items))
                }
                "[" => {
                    *i += 1;
                    let mut items = Vec::new();
                    while !self.is(*i, "]") {
                        items.push(self.expr(i)?);
                        if self.is(*i, ",") {
                            *i += 1;
                        } else if !self.is(*i, "]") {
                            return Err(self.unexpected(*i));
                        }
                    }
                    *i += 1;
                    Ok(Value::List(items))
                }
                "{" => {
                    *i += 1;
                    let mut items: Vec<(Value, Value)> = Vec::new();
                    while !self.is(*i, "}") {
                        let k = self.expr(i)?;
                        if !self.is(*i, ":") {
                            return Err(self.unexpected(*i));
                        }
                        *i += 1;
                        let v = self.expr(i)?;
                        if !matches!(k, Value::Str(_)) {
                            return Err(self.unrunnable(*i, "a dict key that is not a string"));
                        }
                        match items.iter_mut().find(|(ek, _)| *ek == k) {
                            Some(slot) => slot.1 = v,
                            None => items.push((k, v)),
                        }
                        if self.is(*i, ",") {
                            *i += 1;
                        } else if !self.is(*i, "}") {
                            return Err(self.unexpected(*i));
                        }
                    }
                    *i += 1;
                    Ok(Value::Dict(items))
                }
                _ => Err(self.unexpected(*i)),
            },
            _ => Err(self.unexpected(*i)),
        }
    }

    fn call(
        &mut self,
        at: usize,
        path: &str,
        written: &str,
        args: Vec<Value>,
        kwargs: Vec<(&'s str, Value)>,
    ) -> Folded<Value> {
        let one_str = |args: &[Value], kwargs: &[(&str, Value)]| match (args, kwargs) {
            ([Value::Str(s)], []) => Some(s.clone()),
            _ => None,
        };
        if TEXT_PATHS.contains(&path) {
            return one_str(&args, &kwargs).map(Value::Text).ok_or_else(|| {
                self.unrunnable(at, format!("{written}(...) of anything but one string"))
            });
        }
        if path == "textwrap.dedent" {
            return one_str(&args, &kwargs)
                .map(|s| Value::Str(value::dedent(&s)))
                .ok_or_else(|| {
                    self.unrunnable(at, format!("{written}(...) of anything but one string"))
                });
        }
        if path == "alembic.op.get_bind" && args.is_empty() && kwargs.is_empty() {
            return Ok(Value::Bind);
        }
        Err(self.unrunnable(at, format!("{written}(...)")))
    }

    /// One or more adjacent string literal tokens (implicit concatenation).
    fn strings(&mut self, i: &mut usize) -> Folded<Value> {
        let first = *i;
        let mut out = String::with_capacity(self.tok(*i).text(self.src).len());
        let mut any_bytes = false;
        let mut any_str = false;
        while self.tok(*i).kind == Kind::Str {
            let t = *self.tok(*i);
            let tok = self.text(*i);
            let (prefix, body, body_at) = split_token(tok);
            let base = t.start as usize;
            if prefix.bytes {
                any_bytes = true;
            } else {
                any_str = true;
            }
            if any_bytes && any_str {
                return Err(Stop::Syntax(Syntax {
                    line: t.line as usize,
                    line_start: t.line_start as usize,
                    offset: base,
                    message: "cannot mix bytes and nonbytes literals".into(),
                }));
            }
            if prefix.bytes {
                *i += 1;
                continue;
            }
            if prefix.fstring {
                let parts = fstring_parts(body, prefix.raw, body_at)
                    .map_err(|e| self.lit_error(*i, base, e))?;
                for part in parts {
                    match part {
                        FPart::Text(s) => out.push_str(&s),
                        FPart::Field {
                            expr,
                            conversion,
                            spec,
                            at,
                        } => {
                            let offset = base + at;
                            let (line, line_start) = self.position_in(*i, offset);
                            let here = |construct: String| {
                                Stop::Unrunnable(Unrunnable {
                                    line,
                                    column: column_of(self.src, line_start, offset),
                                    construct,
                                })
                            };
                            if !spec.is_empty() {
                                return Err(here(format!(
                                    "f-string format spec {{{expr}:{spec}}}"
                                )));
                            }
                            let is_ident = expr
                                .chars()
                                .next()
                                .is_some_and(|c| c.is_alphabetic() || c == '_')
                                && expr.chars().all(|c| c.is_alphanumeric() || c == '_');
                            if !is_ident || KEYWORDS.contains(&expr) {
                                return Err(here(format!("f-string expression {{{expr}}}")));
                            }
                            let v = match (expr, self.lookup(expr)) {
                                (_, Some(v)) => v,
                                ("None", None) => &Value::None,
                                _ => {
                                    return Err(here(format!(
                                        "name '{expr}' is not a string constant"
                                    )))
                                }
                            };
                            out.push_str(&v.convert(conversion).map_err(here)?);
                        }
                    }
                }
            } else {
                decode_into(body, prefix.raw, body_at, &mut out)
                    .map_err(|e| self.lit_error(*i, base, e))?;
            }
            *i += 1;
        }
        if any_bytes {
            return Err(self.unrunnable(first, "a bytes literal"));
        }
        Ok(Value::Str(out))
    }

    // ----- statements --------------------------------------------------------------------

    /// Fold the body of a function whose `:` is just before token `body`.
    pub(crate) fn function(mut self, body: usize) -> Folded<Migration> {
        let end = skip_body(self.toks, body);
        for k in body..end {
            if !self.is_name(k) {
                continue;
            }
            let next = self.text(k + 1);
            let prev = self.text(k.saturating_sub(1));
            let at_start = matches!(
                self.tok(k.saturating_sub(1)).kind,
                Kind::Newline | Kind::Indent | Kind::Dedent
            ) || prev == ";"
                || k == body;
            let assigns = next == "="
                || next == ":"
                || (next.ends_with('=') && !matches!(next, "==" | "<=" | ">=" | "!="));
            if (at_start && assigns)
                || (prev == "=" && next == "=")
                || matches!(prev, "for" | "as" | "import")
            {
                let name = self.text(k);
                if !self.assigned.contains(&name) {
                    self.assigned.push(name);
                }
            }
        }
        let mut i = body;
        self.body(&mut i, true)?;
        Ok(Migration::Sql(self.blocks))
    }

    /// A block: either `NEWLINE INDENT statements DEDENT` or simple statements on the line.
    fn body(&mut self, i: &mut usize, transactional: bool) -> Folded<()> {
        if self.tok(*i).kind == Kind::Newline {
            *i += 1;
            if self.tok(*i).kind != Kind::Indent {
                let t = *self.tok(*i);
                return Err(Stop::Syntax(Syntax {
                    line: t.line as usize,
                    line_start: t.line_start as usize,
                    offset: t.start as usize,
                    message: "expected an indented block".into(),
                }));
            }
            *i += 1;
            while !matches!(self.tok(*i).kind, Kind::Dedent | Kind::End) {
                self.statement(i, transactional)?;
            }
            *i += 1;
            Ok(())
        } else {
            self.simple_line(i, transactional)
        }
    }

    fn statement(&mut self, i: &mut usize, transactional: bool) -> Folded<()> {
        if self.is_name(*i) {
            match self.text(*i) {
                "for" => return self.for_loop(i, transactional),
                "with" => return self.with_block(i),
                "if" | "while" | "try" | "def" | "class" | "async" | "elif" | "else" | "except"
                | "finally" => {
                    let kw = self.text(*i);
                    return Err(self.unrunnable(*i, format!("{kw} statement")));
                }
                _ => {}
            }
        }
        if self.is(*i, "@") {
            return Err(self.unrunnable(*i, "decorator"));
        }
        self.simple_line(i, transactional)
    }

    /// Simple statements separated by `;`, through the NEWLINE.
    fn simple_line(&mut self, i: &mut usize, transactional: bool) -> Folded<()> {
        loop {
            self.simple(i, transactional)?;
            if self.is(*i, ";") {
                *i += 1;
            }
            if self.tok(*i).kind == Kind::Newline {
                *i += 1;
                return Ok(());
            }
            if matches!(self.tok(*i).kind, Kind::End | Kind::Dedent) {
                return Ok(());
            }
        }
    }

    fn at_statement_end(&self, i: usize) -> bool {
        matches!(self.tok(i).kind, Kind::Newline | Kind::End | Kind::Dedent) || self.is(i, ";")
    }

    fn simple(&mut self, i: &mut usize, transactional: bool) -> Folded<()> {
        let start = *i;
        if self.is(*i, "...") && self.at_statement_end(*i + 1) {
            *i += 1; // `...` as a statement does nothing
            return Ok(());
        }
        if self.is_name(*i) {
            let name = self.text(*i);
            if name == "pass" {
                *i += 1;
                return self.expect_end(*i);
            }
            if self.is(*i + 1, "=") || (self.is(*i + 1, ":") && !KEYWORDS.contains(&name)) {
                return self.assignment(i);
            }
            if self.is(*i + 1, "+=") {
                let Some(Value::Str(old)) = self
                    .locals
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
                else {
                    return Err(self.unrunnable(
                        start,
                        format!("'+=' on '{name}', which is not a local string"),
                    ));
                };
                *i += 2;
                let Value::Str(add) = self.expr(i)? else {
                    return Err(self.unrunnable(start, format!("'+=' of a non-string to '{name}'")));
                };
                self.expect_end(*i)?;
                self.set_local(name, Value::Str(old + &add));
                return Ok(());
            }
            if KEYWORDS.contains(&name)
                && !matches!(name, "None" | "True" | "False" | "not" | "lambda" | "await")
            {
                return Err(self.unrunnable(start, format!("{name} statement")));
            }
            if let Some(arg) = self.execute_call(start) {
                *i = arg;
                let arg_tok = *i;
                let v = self.expr(i)?;
                if self.is(*i, ",") {
                    *i += 1;
                    if !self.is(*i, ")") {
                        return Err(self.unrunnable(*i, "execute() with more than one argument"));
                    }
                }
                if !self.is(*i, ")") {
                    return Err(self.unexpected(*i));
                }
                *i += 1;
                self.expect_end(*i)?;
                return self.emit(arg_tok, v, transactional);
            }
        }
        let v = self.expr(i)?;
        let _ = v;
        self.expect_end(*i)
    }

    fn expect_end(&self, i: usize) -> Folded<()> {
        if self.at_statement_end(i) {
            Ok(())
        } else {
            Err(self.unexpected(i))
        }
    }

    /// `NAME [: annotation] = [NAME =]* expr`
    fn assignment(&mut self, i: &mut usize) -> Folded<()> {
        let mut targets = vec![self.text(*i)];
        if self.is(*i + 1, ":") {
            *i += 2;
            let mut depth = 0usize;
            while !(depth == 0 && (self.is(*i, "=") || self.at_statement_end(*i))) {
                match self.text(*i) {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                *i += 1;
            }
            if !self.is(*i, "=") {
                return Ok(()); // a bare annotation binds nothing
            }
            *i += 1;
        } else {
            *i += 2;
        }
        while self.is_name(*i) && self.is(*i + 1, "=") {
            targets.push(self.text(*i));
            *i += 2;
        }
        let v = self.expr(i)?;
        self.expect_end(*i)?;
        for t in targets {
            self.set_local(t, v.clone());
        }
        Ok(())
    }

    /// When the statement at `i` is `op.execute(`, `B.execute(` (B bound to `op.get_bind()`)
    /// or `op.get_bind().execute(`, the index of its first argument.
    fn execute_call(&self, i: usize) -> Option<usize> {
        let name = self.text(i);
        if matches!(self.lookup(name), Some(Value::Bind)) {
            return (self.is(i + 1, ".") && self.is(i + 2, "execute") && self.is(i + 3, "("))
                .then_some(i + 4);
        }
        let mut j = i;
        let path = self.dotted_path(&mut j)?;
        match path.as_str() {
            "alembic.op.execute" if self.is(j, "(") => Some(j + 1),
            "alembic.op.get_bind"
                if self.is(j, "(")
                    && self.is(j + 1, ")")
                    && self.is(j + 2, ".")
                    && self.is(j + 3, "execute")
                    && self.is(j + 4, "(") =>
            {
                Some(j + 5)
            }
            _ => None,
        }
    }

    fn emit(&mut self, at: usize, v: Value, transactional: bool) -> Folded<()> {
        let sql = match v {
            Value::Str(s) | Value::Text(s) => s,
            other => {
                return Err(self.unrunnable(at, format!("execute() of a {}", other.type_name())))
            }
        };
        if repr::strip(&sql, true, true).eq_ignore_ascii_case("commit") {
            self.after_commit = true;
            return Ok(());
        }
        if let Some(param) = bind_parameter(&sql) {
            return Err(self.unrunnable(
                at,
                format!("SQL with the bind parameter '{param}' (Alembic runs op.execute text through text(), which needs a value for it)"),
            ));
        }
        let t = self.tok(at);
        self.blocks.push(SqlBlock {
            sql,
            line: t.line as usize,
            transactional: transactional && !self.after_commit,
            dialects: Vec::new(),
        });
        Ok(())
    }

    /// `with op.get_context().autocommit_block():`
    fn with_block(&mut self, i: &mut usize) -> Folded<()> {
        let start = *i;
        let mut j = *i + 1;
        let ok = self.is_name(j)
            && self.dotted_path(&mut j).as_deref() == Some("alembic.op.get_context")
            && self.is(j, "(")
            && self.is(j + 1, ")")
            && self.is(j + 2, ".")
            && self.is(j + 3, "autocommit_block")
            && self.is(j + 4, "(")
            && self.is(j + 5, ")")
            && self.is(j + 6, ":");
        if !ok {
            return Err(self.unrunnable(
                start,
                "with statement (only `with op.get_context().autocommit_block():` is folded)",
            ));
        }
        *i = j + 7;
        self.body(i, false)
    }

    /// `for NAME in <constant list or tuple>:`
    fn for_loop(&mut self, i: &mut usize, transactional: bool) -> Folded<()> {
        let start = *i;
        if !(self.is_name(*i + 1) && self.is(*i + 2, "in")) {
            return Err(self.unrunnable(start, "for loop with a target other than one name"));
        }
        let var = self.text(*i + 1);
        *i += 3;
        let iter_at = *i;
        let items = match self.expr(i)? {
            Value::List(items) | Value::Tuple(items) => items,
            other => {
                return Err(
                    self.unrunnable(iter_at, format!("for loop over a {}", other.type_name()))
                )
            }
        };
        if !self.is(*i, ":") {
            return Err(self.unexpected(*i));
        }
        *i += 1;
        let body = *i;
        let mut end = skip_body(self.toks, body);
        for item in items {
            self.set_local(var, item);
            let mut k = body;
            self.body(&mut k, transactional)?;
            end = k;
        }
        if self.is(end, "else") {
            return Err(self.unrunnable(end, "for ... else"));
        }
        *i = end;
        Ok(())
    }
}

/// The index after the block starting at `i` (`NEWLINE INDENT ... DEDENT`, or the rest of the
/// line).
pub(crate) fn skip_body(toks: &[Token], mut i: usize) -> usize {
    let last = toks.len() - 1;
    if toks[i].kind == Kind::Newline && toks.get(i + 1).is_some_and(|t| t.kind == Kind::Indent) {
        i += 2;
        let mut depth = 1usize;
        while i < last && depth > 0 {
            match toks[i].kind {
                Kind::Indent => depth += 1,
                Kind::Dedent => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        i
    } else {
        while i < last && toks[i].kind != Kind::Newline {
            i += 1;
        }
        (i + 1).min(last)
    }
}

/// The first bind parameter SQLAlchemy 2.x's `text()` would find (its regex
/// `(?<![:\w\x5c]):(\w+)(?![:\w])`), or a `\:` escape its compiler would rewrite.
fn bind_parameter(sql: &str) -> Option<String> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let b = sql.as_bytes();
    let mut from = 0;
    while let Some(p) = b[from..].iter().position(|&c| c == b':') {
        let at = from + p;
        from = at + 1;
        let prev = sql[..at].chars().next_back();
        if prev == Some('\\') {
            return Some("\\:".into());
        }
        if prev.is_some_and(|p| p == ':' || word(p)) {
            continue;
        }
        let rest = &sql[at + 1..];
        let run = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        if run == 0 || rest[run..].starts_with(':') {
            continue;
        }
        return Some(sql[at..at + 1 + run].to_string());
    }
    None
}
