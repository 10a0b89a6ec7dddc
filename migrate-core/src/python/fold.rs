//! The constant folder: string expressions over literals and known constants, and the
//! straight-line `upgrade()` / `downgrade()` bodies made of `op.execute(...)` calls.
//!
//! Every value is computed exactly as CPython would; anything the folder does not know is
//! reported as [`Stop::Unrunnable`] with its position, never guessed.

use super::lexer::{column_of, Kind, Token};
use super::literal::{decode_into, fstring_parts, split_token, FPart, LitError};
use super::module::{Binding, Names};
use super::repr;
use super::value::{self, Value, View};
use super::{ops, sa};
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
fn is_keyword(name: &str) -> bool {
    matches!(
        name,
        "False"
            | "await"
            | "else"
            | "import"
            | "pass"
            | "break"
            | "except"
            | "in"
            | "raise"
            | "True"
            | "class"
            | "finally"
            | "is"
            | "return"
            | "and"
            | "continue"
            | "for"
            | "lambda"
            | "try"
            | "as"
            | "def"
            | "from"
            | "nonlocal"
            | "while"
            | "assert"
            | "del"
            | "global"
            | "not"
            | "with"
            | "async"
            | "elif"
            | "if"
            | "or"
            | "yield"
    )
}

/// The qualified names `text(...)` may be imported as.
const TEXT_PATHS: &[&str] = &[
    "sqlalchemy.text",
    "sqlalchemy.sql.text",
    "sqlalchemy.sql.expression.text",
    "sqlalchemy.sql.elements.text",
];

/// Python builtins the folder computes when nothing in the file rebinds them.
fn is_builtin_name(name: &str) -> bool {
    matches!(
        name,
        "enumerate" | "len" | "list" | "repr" | "sorted" | "str" | "tuple" | "zip"
    )
}

/// The target of a `for` loop or comprehension: a name, or a tuple of targets to unpack into.
#[derive(Debug, Clone)]
enum Target<'s> {
    Name(&'s str),
    Tuple(Vec<Target<'s>>),
}

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
    /// Reused buffers for the import paths of dotted names (one per nesting depth).
    path_buffers: Vec<String>,
    /// Reused argument vectors of calls (one pair per nesting depth), given back by
    /// [`Folder::recycle`] once a call is bound.
    arg_buffers: Vec<Args<'s>>,
    /// The tokens folded hold no `for`, so no bracket is a comprehension (set by
    /// [`Folder::function`]'s pre-pass, which sees every token of the body).
    no_for: bool,
    /// An `op.execute("COMMIT")` was seen: later blocks run outside a transaction.
    after_commit: bool,
    /// Inside `with op.batch_alter_table(...) as NAME:`: NAME, the batch's table, and the
    /// operations its `NAME.*` calls recorded so far.
    batch: Option<Batching<'s>>,
}

/// The batch being read: the `as` name, the table, the recorded operations.
type Batching<'s> = (
    Option<&'s str>,
    crate::ops::TableRef,
    Vec<crate::ops::Operation>,
);

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
            path_buffers: Vec::new(),
            arg_buffers: Vec::new(),
            no_for: false,
            after_commit: false,
            batch: None,
        }
    }

    #[inline(always)]
    fn tok(&self, i: usize) -> &Token {
        &self.toks[i.min(self.toks.len() - 1)]
    }

    #[inline(always)]
    fn text(&self, i: usize) -> &'s str {
        let t = *self.tok(i);
        &self.src[t.start as usize..t.end as usize]
    }

    #[inline(always)]
    fn is(&self, i: usize, s: &str) -> bool {
        self.tok(i).is(self.src, s)
    }

    #[inline(always)]
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
        let mut path = String::new();
        self.dotted_path_into(i, &mut path).then_some(path)
    }

    /// [`Folder::dotted_path`] into `path` (cleared first), reusing its allocation; false
    /// when the first name is not an import.
    fn dotted_path_into(&self, i: &mut usize, path: &mut String) -> bool {
        let Some((base, _)) = self.dotted(*i) else {
            return false;
        };
        self.dotted_path_from(i, base, path);
        true
    }

    /// The import path of the dotted name at `*i` whose first name is bound to the import
    /// `base`, into `path` (cleared first); advances past the dotted name.
    fn dotted_path_from(&self, i: &mut usize, base: &str, path: &mut String) {
        path.clear();
        path.push_str(base);
        let mut k = *i + 1;
        while self.is(k, ".") && self.is_name(k + 1) {
            path.push('.');
            path.push_str(self.text(k + 1));
            k += 2;
        }
        *i = k;
    }

    /// The import path the first name of the dotted name at `i` is bound to, and the index of
    /// the token after the dotted name; `None` when the first name is not an import.
    fn dotted(&self, i: usize) -> Option<(&'a str, usize)> {
        let first = self.text(i);
        let base = match self.names.get(first) {
            Some(Binding::Path(p)) if !self.assigned.contains(&first) => p.as_str(),
            _ => return None,
        };
        let mut end = i + 1;
        while self.is(end, ".") && self.is_name(end + 1) {
            end += 2;
        }
        Some((base, end))
    }

    /// True when the dotted name from `i` to `end` (as [`Folder::dotted`] gives) resolves to
    /// `want`, compared piece by piece without building the path.
    fn dotted_is(&self, base: &str, i: usize, end: usize, want: &str) -> bool {
        let Some(mut rest) = want.strip_prefix(base) else {
            return false;
        };
        let mut k = i + 1;
        while k < end {
            let Some(r) = rest.strip_prefix('.') else {
                return false;
            };
            let Some(r) = r.strip_prefix(self.text(k + 1)) else {
                return false;
            };
            rest = r;
            k += 2;
        }
        rest.is_empty()
    }

    /// The source text from token `from` to token `to` (inclusive), for messages.
    fn written(&self, from: usize, to: usize) -> &'s str {
        let (a, b) = (self.tok(from).start as usize, self.tok(to).end as usize);
        self.src.get(a..b.max(a)).unwrap_or("")
    }

    // ----- expressions -------------------------------------------------------------------

    /// `a + b + ...`
    pub(crate) fn expr(&mut self, i: &mut usize) -> Folded<Value> {
        // Most arguments are one token (`"id"`, `False`, `40`) before a `,` or `)`: no
        // operator or postfix can follow, so the atom is the whole expression.
        let next = *self.tok(*i + 1);
        if matches!(self.tok(*i).kind, Kind::Str | Kind::Number | Kind::Name)
            && next.kind == Kind::Op
            && next.end - next.start == 1
            && matches!(self.src.as_bytes()[next.start as usize], b',' | b')')
        {
            return self.atom(i);
        }
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
                (a, b) => value::add(&a, &b).ok_or_else(|| {
                    self.unrunnable(
                        op,
                        format!("'+' of {} and {}", a.type_name(), b.type_name()),
                    )
                })?,
            };
        }
        Ok(v)
    }

    /// `a % b % ...`
    #[inline(always)]
    fn term(&mut self, i: &mut usize) -> Folded<Value> {
        let mut v = self.unary(i)?;
        while self.is(*i, "%") {
            let op = *i;
            *i += 1;
            let r = self.unary(i)?;
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

    /// `-a`, `+a` (numbers), else a postfix expression.
    #[inline(always)]
    fn unary(&mut self, i: &mut usize) -> Folded<Value> {
        if self.is(*i, "-") || self.is(*i, "+") {
            return self.signed(i);
        }
        self.postfix(i)
    }

    /// `-a` or `+a` of a number.
    fn signed(&mut self, i: &mut usize) -> Folded<Value> {
        let minus = self.is(*i, "-");
        let op = *i;
        *i += 1;
        let v = self.unary(i)?;
        let r = if minus {
            value::negate(&v)
        } else {
            value::positive(&v)
        };
        r.ok_or_else(|| {
            let sign = if minus { '-' } else { '+' };
            self.unrunnable(op, format!("unary '{sign}' of a {}", v.type_name()))
        })
    }

    /// An atom followed by method calls and subscripts.
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
                    Value::Dict(_) => matches!(method, "items" | "keys" | "values"),
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
                v = self.subscript(i, v)?;
            } else if self.is(*i, "(") {
                return Err(self.unrunnable(*i, format!("call of a {}", v.type_name())));
            } else {
                return Ok(v);
            }
        }
    }

    /// `v[index]` of a list, tuple or str (an int index, negative from the end) or `v[key]` of
    /// a dict; slices and anything else are refused.
    fn subscript(&mut self, i: &mut usize, v: Value) -> Folded<Value> {
        let open = *i;
        let refuse = |s: &Self| s.unrunnable(open, "subscript [...]");
        *i += 1;
        let key = self.expr(i)?;
        if !self.is(*i, "]") {
            return Err(refuse(self));
        }
        *i += 1;
        let index = |len: usize| -> Option<usize> {
            let n = match key {
                Value::Int(n) => n,
                Value::Bool(b) => b as i128,
                _ => return None,
            };
            let n = if n < 0 { n + len as i128 } else { n };
            (0..len as i128).contains(&n).then_some(n as usize)
        };
        let found = match &v {
            Value::List(items) | Value::Tuple(items) => {
                index(items.len()).map(|n| items[n].clone())
            }
            Value::Str(s) => {
                let n = s.chars().count();
                index(n)
                    .and_then(|k| s.chars().nth(k))
                    .map(|c| Value::Str(c.into()))
            }
            Value::Dict(pairs) if value::hashable(&key) => pairs
                .iter()
                .find(|(k, _)| value::key_eq(k, &key))
                .map(|(_, v)| v.clone()),
            _ => None,
        };
        found.ok_or_else(|| {
            let what = match (&v, &key) {
                (Value::Dict(_), k) if value::hashable(k) => {
                    format!("KeyError: {}", k.to_repr(false).unwrap_or_default())
                }
                (
                    Value::List(_) | Value::Tuple(_) | Value::Str(_),
                    Value::Int(_) | Value::Bool(_),
                ) => {
                    format!("IndexError: {} index out of range", v.type_name())
                }
                _ => format!("subscript of a {} by a {}", v.type_name(), key.type_name()),
            };
            self.unrunnable(open, what)
        })
    }

    fn method(
        &self,
        at: usize,
        v: Value,
        method: &str,
        args: Vec<Value>,
        kwargs: Vec<(&'s str, Value)>,
    ) -> Folded<Value> {
        let fail = |e: String| self.unrunnable(at, format!(".{method}(...): {e}"));
        let s = match v {
            Value::Str(s) => s,
            Value::Dict(pairs) if args.is_empty() && kwargs.is_empty() => {
                let view = match method {
                    "items" => View::Items,
                    "keys" => View::Keys,
                    _ => View::Values,
                };
                return Ok(Value::View(view, pairs));
            }
            Value::Dict(_) => return Err(fail("arguments to a dict view".into())),
            other => {
                return Err(
                    self.unrunnable(at, format!(".{method}(...) on a {}", other.type_name()))
                )
            }
        };
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
            "join" if args.len() == 1 && kwargs.is_empty() => {
                let arg = args.into_iter().next().unwrap_or(Value::None);
                let name = arg.type_name();
                let Some(items) = arg.iterate() else {
                    return Err(fail(format!("joining a {name}")));
                };
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
            _ => Err(self.unrunnable(at, format!("str.{method}(...)"))),
        }
    }

    /// `(args...)` starting at the `(` token; leaves `*i` after the `)`. A generator
    /// expression as the only argument (`", ".join(x for x in L)`) is one argument.
    fn call_args(&mut self, i: &mut usize) -> Folded<Args<'s>> {
        *i += 1;
        // Presized: `op.create_table` takes a table's elements, a type a few keywords.
        let (mut args, mut kwargs) = self
            .arg_buffers
            .pop()
            .unwrap_or_else(|| (Vec::with_capacity(8), Vec::with_capacity(4)));
        if let Some(for_at) = self.comprehension_for(*i) {
            let items = self.comprehension(i, for_at)?;
            if !self.is(*i, ")") {
                return Err(self.unexpected(*i));
            }
            *i += 1;
            args.push(Value::Iter("generator", items));
            return Ok((args, kwargs));
        }
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

    /// Give the argument vectors of a bound call back for the next [`Folder::call_args`],
    /// emptied (what binding left in them is dropped).
    fn recycle(&mut self, (mut args, mut kwargs): Args<'s>) {
        args.clear();
        kwargs.clear();
        self.arg_buffers.push((args, kwargs));
    }

    /// When the bracketed item starting at `i` is a comprehension (`EXPR for ...`), the index
    /// of its `for`.
    fn comprehension_for(&self, i: usize) -> Option<usize> {
        if self.no_for {
            return None;
        }
        let mut depth = 0usize;
        let mut k = i;
        loop {
            let t = self.tok(k);
            match t.kind {
                Kind::End | Kind::Newline => return None,
                Kind::Name if depth == 0 && self.is(k, "for") => return Some(k),
                // Brackets, `,` and `:` are one-character operators.
                Kind::Op if t.end - t.start == 1 => match self.src.as_bytes()[t.start as usize] {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' if depth == 0 => return None,
                    b')' | b']' | b'}' => depth -= 1,
                    b',' | b':' if depth == 0 => return None,
                    _ => {}
                },
                _ => {}
            }
            k += 1;
        }
    }

    /// The items of the comprehension `EXPR for TARGET in ITERABLE` starting at `*i`, whose
    /// `for` is at `for_at`; leaves `*i` at the closing bracket. The target is local to the
    /// comprehension, as in Python 3.
    fn comprehension(&mut self, i: &mut usize, for_at: usize) -> Folded<Vec<Value>> {
        let expr_at = *i;
        let mut k = for_at + 1;
        let target = self.target(&mut k)?;
        let iter_at = k;
        let iterable = self.expr(&mut k)?;
        if self.is(k, "if") || self.is(k, "for") || self.is(k, "async") {
            return Err(self.unrunnable(
                k,
                format!("a comprehension with a nested '{}'", self.text(k)),
            ));
        }
        let name = iterable.type_name();
        let Some(items) = iterable.iterate() else {
            return Err(self.unrunnable(iter_at, format!("a comprehension over a {name}")));
        };
        let saved = self.locals.clone();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            self.bind(for_at, &target, item)?;
            let mut j = expr_at;
            let v = self.expr(&mut j)?;
            if j != for_at {
                return Err(self.unexpected(j));
            }
            self.no_iterator(expr_at, &v)?;
            out.push(v);
        }
        self.locals = saved;
        *i = k;
        Ok(out)
    }

    /// A `for` target at `*k`, through the `in`: a name, or names and nested tuples of names.
    fn target(&self, k: &mut usize) -> Folded<Target<'s>> {
        let start = *k;
        let t = self.target_list(k)?;
        if !self.is(*k, "in") {
            return Err(self.unrunnable(start, "a for target other than names"));
        }
        *k += 1;
        Ok(t)
    }

    fn target_list(&self, k: &mut usize) -> Folded<Target<'s>> {
        let mut items = Vec::new();
        let mut tuple = false;
        loop {
            let item = if self.is(*k, "(") || self.is(*k, "[") {
                let close = if self.is(*k, "(") { ")" } else { "]" };
                *k += 1;
                let inner = self.target_list(k)?;
                if !self.is(*k, close) {
                    return Err(self.unrunnable(*k, "a for target other than names"));
                }
                *k += 1;
                inner
            } else if self.is_name(*k) && !is_keyword(self.text(*k)) {
                *k += 1;
                Target::Name(self.text(*k - 1))
            } else {
                return Err(self.unrunnable(*k, "a for target other than names"));
            };
            items.push(item);
            if self.is(*k, ",") {
                tuple = true;
                *k += 1;
                if self.is(*k, "in") || self.is(*k, ")") || self.is(*k, "]") {
                    break;
                }
            } else {
                break;
            }
        }
        Ok(if tuple || items.len() != 1 {
            Target::Tuple(items)
        } else {
            items.pop().unwrap_or(Target::Tuple(Vec::new()))
        })
    }

    /// Bind `value` to `target` (unpacking tuples as Python does), or refuse as Python would
    /// raise.
    fn bind(&mut self, at: usize, target: &Target<'s>, value: Value) -> Folded<()> {
        match target {
            Target::Name(n) => {
                self.no_iterator(at, &value)?;
                self.set_local(n, value);
                Ok(())
            }
            Target::Tuple(targets) => {
                let name = value.type_name();
                let Some(items) = value.iterate() else {
                    return Err(self.unrunnable(
                        at,
                        format!("TypeError: cannot unpack non-iterable {name} object"),
                    ));
                };
                if items.len() != targets.len() {
                    return Err(self.unrunnable(
                        at,
                        format!(
                            "ValueError: unpacking {} values into {} names",
                            items.len(),
                            targets.len()
                        ),
                    ));
                }
                for (t, v) in targets.iter().zip(items) {
                    self.bind(at, t, v)?;
                }
                Ok(())
            }
        }
    }

    /// Refuse an iterator where it could be read twice (bound to a name, kept in a container):
    /// Python's would be empty the second time.
    fn no_iterator(&self, at: usize, v: &Value) -> Folded<()> {
        match v {
            Value::Iter(name, _) => Err(self.unrunnable(
                at,
                format!("a {name} object kept for later (an iterator is used up once read)"),
            )),
            _ => Ok(()),
        }
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
            Kind::Number => {
                let v = value::number_literal(self.text(*i))
                    .map_err(|what| self.unrunnable(*i, what))?;
                *i += 1;
                Ok(v)
            }
            Kind::Name => {
                let name = self.text(*i);
                let constant = match name {
                    "None" => Some(Value::None),
                    "True" => Some(Value::Bool(true)),
                    "False" => Some(Value::Bool(false)),
                    _ => None,
                };
                if let Some(v) = constant {
                    *i += 1;
                    return Ok(v);
                }
                if is_keyword(name) {
                    return Err(self.unexpected(*i));
                }
                if self.is_batch_call(*i, "f") {
                    // `batch_op.f(name)` is `op.f(name)`.
                    let start = *i;
                    *i += 3;
                    let (mut args, mut kwargs) = self.call_args(i)?;
                    let v = self.call(start, "alembic.op.f", "batch_op.f", &mut args, &mut kwargs);
                    self.recycle((args, kwargs));
                    return v;
                }
                // One look-up per place a name can be bound: the locals, the function's
                // assigned names, the module's names (a builtin is a name none of them
                // binds).
                if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| *n == name) {
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
                let names = self.names;
                let base = match names.get(name) {
                    Some(Binding::Value(v)) => {
                        *i += 1;
                        return Ok(v.clone());
                    }
                    Some(Binding::Path(p)) => Some(p.as_str()),
                    Some(Binding::Other) => None,
                    None => {
                        if is_builtin_name(name) && self.is(*i + 1, "(") {
                            *i += 1;
                            let (args, kwargs) = self.call_args(i)?;
                            return self.builtin(start, name, args, kwargs);
                        }
                        None
                    }
                };
                if base == Some("sqlalchemy")
                    && self.is(start + 1, ".")
                    && self.is_name(start + 2)
                    && self.is(start + 3, "(")
                    && !self.is(start + 2, "text")
                {
                    // `sa.NAME(...)`, the most common call: read as `path_atom` and `call`
                    // read `sqlalchemy.NAME(...)`, without building the path.
                    let attr = self.text(start + 2);
                    *i = start + 3;
                    let (mut args, mut kwargs) = self.call_args(i)?;
                    let v = sa::call_generic(attr, &mut args, &mut kwargs).map_err(|e| {
                        let written = self.written(start, start + 2);
                        self.unrunnable(start, e.unwrap_or_else(|| format!("{written}(...)")))
                    });
                    self.recycle((args, kwargs));
                    return v;
                }
                // The path is built in a buffer kept for the next call at this depth.
                let mut path = self
                    .path_buffers
                    .pop()
                    .unwrap_or_else(|| String::with_capacity(48));
                if let Some(base) = base {
                    self.dotted_path_from(i, base, &mut path);
                } else {
                    self.path_buffers.push(path);
                    // Name the call when it is one (`seed(...)`, `engine.connect(...)`).
                    let mut k = start + 1;
                    while self.is(k, ".") && self.is_name(k + 1) {
                        k += 2;
                    }
                    if self.is(k, "(") {
                        let written = self.written(start, k - 1);
                        return Err(self.unrunnable(start, format!("{written}(...)")));
                    }
                    return Err(self.unrunnable(start, format!("name '{name}' is not a constant")));
                }
                let v = self.path_atom(i, start, &path);
                self.path_buffers.push(path);
                v
            }
            Kind::Op => match self.text(*i) {
                "(" => {
                    let open = *i;
                    *i += 1;
                    if self.is(*i, ")") {
                        *i += 1;
                        return Ok(Value::Tuple(Vec::new()));
                    }
                    if let Some(for_at) = self.comprehension_for(*i) {
                        let items = self.comprehension(i, for_at)?;
                        if !self.is(*i, ")") {
                            return Err(self.unexpected(*i));
                        }
                        *i += 1;
                        return Ok(Value::Iter("generator", items));
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
                        return Err(self.unexpected(*i));
                    }
                    *i += 1;
                    for v in &items {
                        self.no_iterator(open, v)?;
                    }
                    Ok(Value::Tuple(items))
                }
                "[" => {
                    let open = *i;
                    *i += 1;
                    if let Some(for_at) = self.comprehension_for(*i) {
                        let items = self.comprehension(i, for_at)?;
                        if !self.is(*i, "]") {
                            return Err(self.unexpected(*i));
                        }
                        *i += 1;
                        return Ok(Value::List(items));
                    }
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
                    for v in &items {
                        self.no_iterator(open, v)?;
                    }
                    Ok(Value::List(items))
                }
                "{" => {
                    let open = *i;
                    *i += 1;
                    let mut items: Vec<(Value, Value)> = Vec::new();
                    while !self.is(*i, "}") {
                        let key_at = *i;
                        if self.is(*i, "**") {
                            return Err(self.unrunnable(*i, "dict unpacking"));
                        }
                        let k = self.expr(i)?;
                        if self.is(*i, "for") {
                            return Err(self.unrunnable(open, "a set comprehension"));
                        }
                        if !self.is(*i, ":") {
                            return Err(if self.is(*i, ",") || self.is(*i, "}") {
                                self.unrunnable(open, "a set")
                            } else {
                                self.unexpected(*i)
                            });
                        }
                        *i += 1;
                        let v = self.expr(i)?;
                        if self.is(*i, "for") {
                            return Err(self.unrunnable(open, "a dict comprehension"));
                        }
                        if !value::hashable(&k) {
                            return Err(self.unrunnable(
                                key_at,
                                format!("a dict key that is a {}", k.type_name()),
                            ));
                        }
                        self.no_iterator(key_at, &v)?;
                        match items.iter_mut().find(|(ek, _)| value::key_eq(ek, &k)) {
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

    /// The rest of [`Folder::atom`] for a dotted name that resolved to the import `path`
    /// (`*i` after it): a SQLAlchemy reference, or a call of a function the folder knows.
    fn path_atom(&mut self, i: &mut usize, start: usize, path: &str) -> Folded<Value> {
        let written = self.written(start, *i - 1);
        let sqlalchemy = path.starts_with("sqlalchemy.") || path == "alembic.op.f";
        if !self.is(*i, "(") {
            if sqlalchemy {
                // A type class used as a type (`sa.Column("id", sa.Integer)`).
                return sa::reference(path).map_err(|e| self.unrunnable(start, e));
            }
            return Err(self.unrunnable(start, written.to_string()));
        }
        if !(TEXT_PATHS.contains(&path)
            || sqlalchemy
            || path == "textwrap.dedent"
            || path == "json.dumps"
            || path == "alembic.op.get_bind")
        {
            return Err(self.unrunnable(start, format!("{written}(...)")));
        }
        let (mut args, mut kwargs) = self.call_args(i)?;
        let v = self.call(start, path, written, &mut args, &mut kwargs);
        self.recycle((args, kwargs));
        v
    }

    /// A call of one of the builtins [`is_builtin_name`] names.
    fn builtin(
        &self,
        at: usize,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(&'s str, Value)>,
    ) -> Folded<Value> {
        let refuse = |why: &str| self.unrunnable(at, format!("{name}(...) {why}"));
        let iterable = |v: Value| {
            let t = v.type_name();
            v.iterate()
                .ok_or_else(|| self.unrunnable(at, format!("{name}(...) of a {t}")))
        };
        match name {
            "str" | "repr" if !kwargs.is_empty() || args.len() > 1 => {
                Err(refuse("with more than one argument"))
            }
            "str" => match args.into_iter().next() {
                None => Ok(Value::Str(String::new())),
                Some(v) => v
                    .to_str()
                    .map(Value::Str)
                    .map_err(|e| self.unrunnable(at, format!("str(...) of {e}"))),
            },
            "repr" => match args.into_iter().next() {
                None => Err(refuse("without an argument")),
                Some(v) => v
                    .to_repr(false)
                    .map(Value::Str)
                    .map_err(|e| self.unrunnable(at, format!("repr(...) of {e}"))),
            },
            "len" => match (args.as_slice(), kwargs.is_empty()) {
                ([v], true) => v
                    .len()
                    .map(|n| Value::Int(n as i128))
                    .ok_or_else(|| refuse(&format!("of a {}", v.type_name()))),
                _ => Err(refuse("with other than one argument")),
            },
            "list" | "tuple" => {
                if !kwargs.is_empty() || args.len() > 1 {
                    return Err(refuse("with more than one argument"));
                }
                let items = match args.into_iter().next() {
                    Some(v) => iterable(v)?,
                    None => Vec::new(),
                };
                Ok(if name == "list" {
                    Value::List(items)
                } else {
                    Value::Tuple(items)
                })
            }
            "sorted" => {
                let mut reverse = false;
                for (k, v) in &kwargs {
                    match (*k, v) {
                        ("reverse", Value::Bool(b)) => reverse = *b,
                        _ => return Err(refuse(&format!("with {k}="))),
                    }
                }
                let [v] = <[Value; 1]>::try_from(args)
                    .map_err(|_| refuse("with other than one argument"))?;
                let mut items = iterable(v)?;
                let mut failed = false;
                items.sort_by(|a, b| {
                    let (a, b) = if reverse { (b, a) } else { (a, b) };
                    value::py_cmp(a, b).unwrap_or_else(|| {
                        failed = true;
                        std::cmp::Ordering::Equal
                    })
                });
                if failed {
                    return Err(refuse("of items Python cannot order"));
                }
                Ok(Value::List(items))
            }
            "enumerate" => {
                let mut args = args.into_iter();
                let (Some(v), rest) = (args.next(), args.next()) else {
                    return Err(refuse("without an argument"));
                };
                let start = match (rest, kwargs.as_slice()) {
                    (None, []) => Value::Int(0),
                    (Some(s), []) => s,
                    (None, [("start", s)]) => s.clone(),
                    _ => return Err(refuse("with these arguments")),
                };
                let Value::Int(start) = start else {
                    return Err(refuse("with a start that is not an int"));
                };
                let items = iterable(v)?;
                let mut out = Vec::with_capacity(items.len());
                for (n, item) in items.into_iter().enumerate() {
                    let k = start
                        .checked_add(n as i128)
                        .ok_or_else(|| refuse("beyond 128 bits"))?;
                    out.push(Value::Tuple(vec![Value::Int(k), item]));
                }
                Ok(Value::Iter("enumerate", out))
            }
            "zip" => {
                if !kwargs.is_empty() {
                    return Err(refuse("with keyword arguments"));
                }
                let lists = args.into_iter().map(iterable).collect::<Folded<Vec<_>>>()?;
                let n = lists.iter().map(Vec::len).min().unwrap_or(0);
                let mut iters: Vec<_> = lists.into_iter().map(Vec::into_iter).collect();
                let out = (0..n)
                    .map(|_| Value::Tuple(iters.iter_mut().filter_map(Iterator::next).collect()))
                    .collect();
                Ok(Value::Iter("zip", out))
            }
            _ => Err(self.unrunnable(at, format!("{name}(...)"))),
        }
    }

    fn call(
        &mut self,
        at: usize,
        path: &str,
        written: &str,
        args: &mut Vec<Value>,
        kwargs: &mut Vec<(&'s str, Value)>,
    ) -> Folded<Value> {
        let one_str = |args: &[Value], kwargs: &[(&str, Value)]| match (args, kwargs) {
            ([Value::Str(s)], []) => Some(s.clone()),
            _ => None,
        };
        if TEXT_PATHS.contains(&path) {
            return one_str(args, kwargs).map(Value::Text).ok_or_else(|| {
                self.unrunnable(at, format!("{written}(...) of anything but one string"))
            });
        }
        if path == "textwrap.dedent" {
            return one_str(args, kwargs)
                .map(|s| Value::Str(value::dedent(&s)))
                .ok_or_else(|| {
                    self.unrunnable(at, format!("{written}(...) of anything but one string"))
                });
        }
        if path == "json.dumps" {
            return self.json_dumps(at, written, std::mem::take(args), std::mem::take(kwargs));
        }
        if path == "alembic.op.get_bind" && args.is_empty() && kwargs.is_empty() {
            return Ok(Value::Bind);
        }
        if path.starts_with("sqlalchemy.") || path == "alembic.op.f" {
            return sa::call(path, args, kwargs)
                .map_err(|e| self.unrunnable(at, e.unwrap_or_else(|| format!("{written}(...)"))));
        }
        Err(self.unrunnable(at, format!("{written}(...)")))
    }

    /// `json.dumps(obj, ensure_ascii=, sort_keys=, indent=, separators=)`.
    fn json_dumps(
        &self,
        at: usize,
        written: &str,
        args: Vec<Value>,
        kwargs: Vec<(&'s str, Value)>,
    ) -> Folded<Value> {
        let refuse = |why: String| self.unrunnable(at, format!("{written}(...) {why}"));
        let [obj] = <[Value; 1]>::try_from(args)
            .map_err(|_| refuse("with other than one positional argument".into()))?;
        let mut options = value::JsonOptions::default();
        for (k, v) in kwargs {
            match (k, v) {
                ("ensure_ascii", Value::Bool(b)) => options.ensure_ascii = b,
                ("sort_keys", Value::Bool(b)) => options.sort_keys = b,
                ("indent", Value::None) => options.indent = None,
                ("indent", Value::Int(n)) => {
                    options.indent = Some(" ".repeat(n.clamp(0, 1000) as usize))
                }
                ("indent", Value::Str(s)) => options.indent = Some(s),
                ("separators", Value::Tuple(pair) | Value::List(pair)) => match pair.as_slice() {
                    [Value::Str(a), Value::Str(b)] => {
                        options.separators = Some((a.clone(), b.clone()))
                    }
                    _ => return Err(refuse("with separators other than two strings".into())),
                },
                (k, v) => return Err(refuse(format!("with {k}= a {}", v.type_name()))),
            }
        }
        value::json_dumps(&obj, &options)
            .map(Value::Str)
            .map_err(|e| refuse(format!("raising {e}")))
    }

    /// One or more adjacent string literal tokens (implicit concatenation).
    fn strings(&mut self, i: &mut usize) -> Folded<Value> {
        // A lone plain literal without escapes or carriage returns (`"id"`, `'CASCADE'`) is
        // the text between its quotes.
        let t = *self.tok(*i);
        let b = &self.src.as_bytes()[t.start as usize..t.end as usize];
        if b.len() >= 2
            && matches!(b[0], b'"' | b'\'')
            && b[b.len() - 1] == b[0]
            && (b.len() == 2 || b[1] != b[0])
            && self.tok(*i + 1).kind != Kind::Str
            && !b[1..b.len() - 1].iter().any(|&c| c == b'\\' || c == b'\r')
        {
            *i += 1;
            return Ok(Value::Str(
                self.src[t.start as usize + 1..t.end as usize - 1].to_string(),
            ));
        }
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
                            let v = match self.lookup(expr) {
                                Some(v) => v.clone(),
                                None => self.fstring_field(*i, expr)?,
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

    /// The value of an f-string replacement field's expression `expr` (a slice of the source
    /// inside token `tok`), folded like any other expression; errors point into the field.
    fn fstring_field(&self, tok: usize, expr: &str) -> Folded<Value> {
        let expr_offset = expr.as_ptr() as usize - self.src.as_ptr() as usize;
        // An offset into `(expr)` as an offset into the file.
        let at =
            |wrapped_offset: usize| expr_offset + wrapped_offset.saturating_sub(1).min(expr.len());
        let syntax = |offset: usize, message: String| {
            let (line, line_start) = self.position_in(tok, offset);
            Stop::Syntax(Syntax {
                line,
                line_start,
                offset,
                message,
            })
        };
        if let Some(k) = expr.find('\\') {
            return Err(syntax(
                expr_offset + k,
                "f-string expression part cannot include a backslash".into(),
            ));
        }
        let wrapped = format!("({expr})");
        let toks = super::lexer::tokenize(&wrapped)
            .map_err(|e| syntax(at(e.offset), format!("invalid Python: {}", e.message)))?;
        let mut sub = Folder {
            src: &wrapped,
            toks: &toks,
            names: self.names,
            locals: self.locals.clone(),
            assigned: self.assigned.clone(),
            blocks: Vec::new(),
            path_buffers: Vec::new(),
            arg_buffers: Vec::new(),
            no_for: false,
            after_commit: false,
            batch: None,
        };
        let mut k = 0;
        let result = sub.expr(&mut k).and_then(|v| {
            if matches!(sub.tok(k).kind, Kind::Newline | Kind::End) {
                Ok(v)
            } else {
                Err(sub.unexpected(k))
            }
        });
        result.map_err(|stop| match stop {
            Stop::Syntax(s) => syntax(at(s.offset), s.message),
            Stop::Unrunnable(u) => {
                let offset = at(offset_of(&wrapped, u.line, u.column));
                let (line, line_start) = self.position_in(tok, offset);
                Stop::Unrunnable(Unrunnable {
                    line,
                    column: column_of(self.src, line_start, offset),
                    construct: u.construct,
                })
            }
        })
    }

    // ----- statements --------------------------------------------------------------------

    /// Fold the body of a function: from token `body` (just after its `:`) to `end` (just
    /// after the body, as the module scan found it with [`skip_body`]).
    pub(crate) fn function(mut self, body: usize, end: usize) -> Folded<Migration> {
        let toks = self.toks;
        let bytes = self.src.as_bytes();
        let mut saw_for = false;
        for k in body..end {
            if toks[k].kind != Kind::Name {
                continue;
            }
            // Most names are neither assigned (`NAME =`, `NAME:`, `NAME +=`) nor bound by a
            // `for`/`as`/`import` before them, nor `for`: tell that from the neighbours first.
            let next_tok = toks[(k + 1).min(toks.len() - 1)];
            let assign_like = next_tok.kind == Kind::Op
                && matches!(bytes.get(next_tok.end as usize - 1), Some(b'=' | b':'));
            let prev_tok = toks[k.saturating_sub(1)];
            let prev_binds = prev_tok.kind == Kind::Name
                && matches!(prev_tok.text(self.src), "for" | "as" | "import");
            if !assign_like && !prev_binds && !toks[k].is(self.src, "for") {
                continue;
            }
            // A keyword argument (`nullable=False` after `(` or `,`) binds nothing: none of
            // the rules below records a name that follows `(` or `,`, and `for` is no
            // keyword argument.
            if assign_like
                && k != body
                && prev_tok.kind == Kind::Op
                && prev_tok.end - prev_tok.start == 1
                && matches!(bytes[prev_tok.start as usize], b'(' | b',')
                && !toks[k].is(self.src, "for")
            {
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
            if self.is(k, "for") {
                saw_for = true;
                // Every name of a `for a, (b, c) in ...` target is local.
                let mut n = k + 1;
                while n < end && !self.is(n, "in") && self.tok(n).kind != Kind::Newline {
                    if self.is_name(n) && !self.assigned.contains(&self.text(n)) {
                        self.assigned.push(self.text(n));
                    }
                    n += 1;
                }
            }
        }
        self.no_for = !saw_for;
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
                "with" if self.is_batch_with(*i) => return self.batch_block(i, transactional),
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
            if self.is(*i + 1, "=") || (self.is(*i + 1, ":") && !is_keyword(name)) {
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
            if is_keyword(name)
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
            if self.is_batch_call(start, "") {
                let name = self.text(start + 2);
                *i = start + 3;
                let (mut args, mut kwargs) = self.call_args(i)?;
                self.expect_end(*i)?;
                let op = match &self.batch {
                    Some((_, table, _)) => {
                        ops::batch_operation(name, table, &mut args, &mut kwargs)
                    }
                    None => Err(format!("{name}(...) outside its batch")),
                };
                self.recycle((args, kwargs));
                let op = op.map_err(|e| self.unrunnable(start, e))?;
                if let Some((_, _, recorded)) = &mut self.batch {
                    recorded.push(op);
                }
                return Ok(());
            }
            if let Some((op, open)) = self.operation_call(start) {
                *i = open;
                let (mut args, mut kwargs) = self.call_args(i)?;
                self.expect_end(*i)?;
                let op = ops::operation(op, &mut args, &mut kwargs);
                self.recycle((args, kwargs));
                let op = op.map_err(|e| self.unrunnable(start, e))?;
                let t = self.tok(start);
                self.blocks.push(SqlBlock {
                    sql: String::new(),
                    operation: Some(Box::new(op)),
                    line: t.line as usize,
                    transactional: transactional && !self.after_commit,
                    dialects: Vec::new(),
                });
                return Ok(());
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
        let value_at = *i;
        let v = self.expr(i)?;
        self.expect_end(*i)?;
        self.no_iterator(value_at, &v)?;
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
        let (base, j) = self.dotted(i)?;
        if !self.is(j, "(") {
            return None;
        }
        if self.dotted_is(base, i, j, "alembic.op.execute") {
            return Some(j + 1);
        }
        (self.dotted_is(base, i, j, "alembic.op.get_bind")
            && self.is(j + 1, ")")
            && self.is(j + 2, ".")
            && self.is(j + 3, "execute")
            && self.is(j + 4, "("))
        .then_some(j + 5)
    }

    /// When the statement at `i` is `op.NAME(` for an operation the model holds, its name and
    /// the index of the `(`.
    fn operation_call(&self, i: usize) -> Option<(&'static str, usize)> {
        let (base, j) = self.dotted(i)?;
        if !self.is(j, "(") {
            return None;
        }
        // `op.NAME` (the common case) is told without building the path.
        let name = if base == "alembic.op" && j == i + 3 {
            self.text(i + 2)
        } else {
            let mut k = i;
            let path = self.dotted_path(&mut k)?;
            let name = path.strip_prefix("alembic.op.")?;
            return ops::OPERATIONS
                .iter()
                .find(|o| **o == name)
                .map(|op| (*op, j));
        };
        let op = ops::OPERATIONS.iter().find(|o| **o == name)?;
        Some((op, j))
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
            operation: None,
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
        self.body(i, false)?;
        // The block's end: Alembic opens a transaction again here, so an autocommit block
        // right after this one follows an empty `BEGIN; COMMIT;`, while the statements inside
        // one block run back to back. An empty transactional block (it holds no statement)
        // tells the execution plan where the stretch outside a transaction ends.
        let t = self.tok(start);
        self.blocks.push(SqlBlock {
            sql: String::new(),
            operation: None,
            line: t.line as usize,
            transactional: !self.after_commit,
            dialects: Vec::new(),
        });
        Ok(())
    }

    /// True when tokens from `i` are `NAME.METHOD(` with NAME the `as` name of the batch being
    /// read (and METHOD `method`, or any when `method` is empty).
    fn is_batch_call(&self, i: usize, method: &str) -> bool {
        self.batch
            .as_ref()
            .is_some_and(|b| b.0.is_some_and(|v| self.is(i, v)))
            && self.is(i + 1, ".")
            && self.is_name(i + 2)
            && (method.is_empty() || self.is(i + 2, method))
            && self.is(i + 3, "(")
    }

    /// True when the `with` at `i` opens `op.batch_alter_table(...)`.
    fn is_batch_with(&self, i: usize) -> bool {
        let mut j = i + 1;
        self.is_name(j)
            && self.dotted_path(&mut j).as_deref() == Some("alembic.op.batch_alter_table")
            && self.is(j, "(")
    }

    /// `with op.batch_alter_table(table, ...) [as NAME]:`. The block's statements run as
    /// they come (an `op.execute` inside runs at once, as under Alembic); the `NAME.*` calls
    /// are recorded and become one [`crate::ops::Operation::Batch`] at the block's end, where
    /// Alembic runs them.
    fn batch_block(&mut self, i: &mut usize, transactional: bool) -> Folded<()> {
        let start = *i;
        if self.batch.is_some() {
            return Err(self.unrunnable(start, "a batch_alter_table block inside another"));
        }
        let mut j = start + 1;
        let _ = self.dotted_path(&mut j);
        let (mut args, mut kwargs) = self.call_args(&mut j)?;
        let table = ops::batch_table(&mut args, &mut kwargs);
        self.recycle((args, kwargs));
        let table = table.map_err(|e| self.unrunnable(start, e))?;
        let mut var = None;
        if self.is(j, "as") && self.is_name(j + 1) {
            var = Some(self.text(j + 1));
            j += 2;
        }
        if !self.is(j, ":") {
            return Err(self.unexpected(j));
        }
        *i = j + 1;
        self.batch = Some((var, table, Vec::new()));
        let body = self.body(i, transactional);
        let batch = self.batch.take();
        body?;
        if let Some((_, table, operations)) = batch.filter(|b| !b.2.is_empty()) {
            let t = self.tok(start);
            self.blocks.push(SqlBlock {
                sql: String::new(),
                operation: Some(Box::new(crate::ops::Operation::Batch(crate::ops::Batch {
                    table,
                    operations,
                }))),
                line: t.line as usize,
                transactional: transactional && !self.after_commit,
                dialects: Vec::new(),
            });
        }
        Ok(())
    }

    /// `for TARGET in <constant iterable>:` (a list, tuple, dict, dict view, `enumerate`,
    /// `zip`, ...), unpacking each item into the target's names.
    fn for_loop(&mut self, i: &mut usize, transactional: bool) -> Folded<()> {
        let start = *i;
        let mut k = *i + 1;
        let target = self.target(&mut k)?;
        *i = k;
        let iter_at = *i;
        let iterable = self.expr(i)?;
        let name = iterable.type_name();
        // A loop over a string's characters is what `TABLES = ("users")` (a str, not a
        // tuple) gives: almost always a mistake, so it is refused rather than run.
        let items = match iterable {
            Value::Str(_) => None,
            other => other.iterate(),
        };
        let Some(items) = items else {
            return Err(self.unrunnable(iter_at, format!("for loop over a {name}")));
        };
        if !self.is(*i, ":") {
            return Err(self.unexpected(*i));
        }
        *i += 1;
        let body = *i;
        let mut end = skip_body(self.toks, body);
        for item in items {
            self.bind(start, &target, item)?;
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

/// The byte offset of 1-based `line` and character `column` in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(n) => start += n + 1,
            None => break,
        }
    }
    text[start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(n, _)| start + n)
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
pub(crate) fn bind_parameter(sql: &str) -> Option<String> {
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
