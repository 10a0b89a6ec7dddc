//! The module level of a revision file: the docstring, the four header variables, the names the
//! module binds (string constants, imports) and where `upgrade()` / `downgrade()` are defined.
//!
//! Every top-level statement is either read (assignments, imports, `def`) or skipped whole;
//! names a skipped block may assign are forgotten, so a folded value never relies on a guess.

use super::fold::{skip_body, Folder, Stop, Syntax};
use super::lexer::{Kind, Token};
use super::literal::{decode_into, split_token, LitError};
use super::value::Value;

/// What a module-level name is bound to, as far as `migrate` knows.
#[derive(Debug, Clone)]
pub(crate) enum Binding {
    /// A constant value.
    Value(Value),
    /// An imported module or object, by qualified name (`sa` -> `sqlalchemy`).
    Path(String),
    /// Anything else: a function, a class, a value computed at run time.
    Other,
}

/// The module's names, last binding wins.
#[derive(Debug, Default)]
pub(crate) struct Names<'s> {
    entries: Vec<(&'s str, Binding)>,
}

impl<'s> Names<'s> {
    /// The binding of `name`, if the module binds it.
    pub(crate) fn get(&self, name: &str) -> Option<&Binding> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b)
    }

    fn set(&mut self, name: &'s str, binding: Binding) {
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = binding,
            None => self.entries.push((name, binding)),
        }
    }
}

/// A header variable's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HeaderValue {
    /// `None`.
    None,
    /// A string.
    Str(String),
    /// A tuple or list of strings.
    Seq(Vec<String>),
    /// `branch_labels` only: a name imported from elsewhere (`cli.EXPAND_BRANCH`), as written.
    Computed(String),
    /// `branch_labels` only: a tuple or list of strings and imported names.
    Labels {
        /// The strings (and names bound to string constants of this module).
        literal: Vec<String>,
        /// The imported names, as written.
        computed: Vec<String>,
    },
}

/// The four header variables.
pub(crate) const HEADER_VARS: [&str; 4] =
    ["revision", "down_revision", "branch_labels", "depends_on"];

/// A header variable's state after the module level.
#[derive(Debug, Clone)]
pub(crate) enum HeaderSlot {
    /// Never assigned.
    Unset,
    /// Assigned a literal at token index `at`.
    Literal { value: HeaderValue, at: usize },
    /// Assigned inside a skipped block (an `if`, a loop, ...), at token index `at`.
    Conditional { at: usize },
}

/// A `def upgrade` / `def downgrade` at module level.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FunctionDef {
    /// Token index just after the `:`.
    pub(crate) body: usize,
    /// Token index of a decorator or `async`, which make the function something else.
    pub(crate) unusual: Option<usize>,
    /// Token index of the first parameter, when the function takes any.
    pub(crate) params: Option<usize>,
    /// Token index just after the body (as [`skip_body`] finds it).
    pub(crate) end: usize,
}

/// What the module level holds.
#[derive(Debug)]
pub(crate) struct Module<'s> {
    /// The module docstring, decoded.
    pub(crate) docstring: Option<String>,
    /// `revision`, `down_revision`, `branch_labels`, `depends_on`.
    pub(crate) header: [HeaderSlot; 4],
    /// Module-level names.
    pub(crate) names: Names<'s>,
    /// `def upgrade`.
    pub(crate) upgrade: Option<FunctionDef>,
    /// `def downgrade`.
    pub(crate) downgrade: Option<FunctionDef>,
}

/// Why the module level could not be read.
#[derive(Debug)]
pub(crate) enum ScanError {
    /// A syntax error.
    Syntax(Syntax),
    /// A header variable is not a literal: token index of the value, the variable, the problem.
    Header {
        at: usize,
        var: &'static str,
        problem: String,
    },
}

impl From<Syntax> for ScanError {
    fn from(s: Syntax) -> Self {
        ScanError::Syntax(s)
    }
}

struct Scanner<'a, 's> {
    src: &'s str,
    toks: &'a [Token],
    module: Module<'s>,
}

/// Read the module level of a tokenized file.
pub(crate) fn scan<'s>(src: &'s str, toks: &[Token]) -> Result<Module<'s>, ScanError> {
    let mut s = Scanner {
        src,
        toks,
        module: Module {
            docstring: None,
            header: [
                HeaderSlot::Unset,
                HeaderSlot::Unset,
                HeaderSlot::Unset,
                HeaderSlot::Unset,
            ],
            names: Names::default(),
            upgrade: None,
            downgrade: None,
        },
    };
    s.run()?;
    Ok(s.module)
}

fn header_index(name: &str) -> Option<usize> {
    HEADER_VARS.iter().position(|v| *v == name)
}

const AUGMENTED: &[&str] = &[
    "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "^=", "|=", "@=",
];

impl<'a, 's> Scanner<'a, 's> {
    fn tok(&self, i: usize) -> &Token {
        &self.toks[i.min(self.toks.len() - 1)]
    }

    fn text(&self, i: usize) -> &'s str {
        self.tok(i).text(self.src)
    }

    fn is(&self, i: usize, s: &str) -> bool {
        self.tok(i).is(self.src, s)
    }

    fn syntax(&self, i: usize, message: impl Into<String>) -> ScanError {
        let t = self.tok(i);
        ScanError::Syntax(Syntax {
            line: t.line as usize,
            line_start: t.line_start as usize,
            offset: t.start as usize,
            message: message.into(),
        })
    }

    /// The index of the `;` or NEWLINE ending the simple statement starting at `i`.
    fn statement_end(&self, mut i: usize) -> usize {
        let mut depth = 0usize;
        loop {
            let t = self.tok(i);
            match t.kind {
                Kind::Newline | Kind::End => return i,
                Kind::Op => match self.text(i) {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    ";" if depth == 0 => return i,
                    _ => {}
                },
                _ => {}
            }
            i += 1;
        }
    }

    fn run(&mut self) -> Result<(), ScanError> {
        let mut i = 0;
        let mut first = true;
        let mut unusual: Option<usize> = None;
        loop {
            let t = *self.tok(i);
            match t.kind {
                Kind::End => return Ok(()),
                Kind::Newline | Kind::Dedent => {
                    i += 1;
                    continue;
                }
                Kind::Indent => return Err(self.syntax(i, "unexpected indent")),
                _ => {}
            }
            let was_first = std::mem::replace(&mut first, false);
            if t.kind == Kind::Op && self.text(i) == "@" {
                unusual.get_or_insert(i);
                i = skip_body(self.toks, self.statement_end(i));
                continue;
            }
            if t.kind == Kind::Name {
                match self.text(i) {
                    "def" => {
                        i = self.def(i, unusual.take())?;
                        continue;
                    }
                    "async" if self.is(i + 1, "def") => {
                        i = self.def(i + 1, Some(i))?;
                        continue;
                    }
                    "class" => {
                        unusual = None;
                        if self.tok(i + 1).kind == Kind::Name {
                            self.module.names.set(self.text(i + 1), Binding::Other);
                        }
                        i = self.skip_compound(i, false)?;
                        continue;
                    }
                    "if" | "for" | "while" | "try" | "with" | "async" => {
                        i = self.skip_compound(i, true)?;
                        continue;
                    }
                    "match" if self.is_compound_header(i) => {
                        i = self.skip_compound(i, true)?;
                        continue;
                    }
                    _ => {}
                }
            }
            unusual = None;
            if was_first {
                if let Some(doc) = self.docstring(i)? {
                    self.module.docstring = Some(doc);
                }
            }
            // Simple statements separated by `;`.
            loop {
                let end = self.statement_end(i);
                self.simple(i, end)?;
                i = end + 1;
                if self.tok(end).kind != Kind::Op {
                    break;
                }
                if self.tok(i).kind == Kind::Newline {
                    i += 1;
                    break;
                }
            }
        }
    }

    /// True when the logical line starting at `i` ends with `:` followed by a block.
    fn is_compound_header(&self, i: usize) -> bool {
        let mut k = i;
        while !matches!(self.tok(k).kind, Kind::Newline | Kind::End) {
            k += 1;
        }
        k > i && self.is(k - 1, ":")
    }

    /// `def NAME(...) [-> ...]:` at token `i`; returns the index after the function.
    fn def(&mut self, i: usize, unusual: Option<usize>) -> Result<usize, ScanError> {
        if self.tok(i + 1).kind != Kind::Name {
            return Err(self.syntax(
                i + 1,
                "invalid syntax: expected a function name after 'def'",
            ));
        }
        let name = self.text(i + 1);
        let mut j = i + 2;
        let mut depth = 0usize;
        loop {
            let t = self.tok(j);
            match t.kind {
                Kind::Newline | Kind::End => return Err(self.syntax(j, "expected ':'")),
                Kind::Op => match self.text(j) {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    ":" if depth == 0 => break,
                    _ => {}
                },
                _ => {}
            }
            j += 1;
        }
        let body = j + 1;
        if self.tok(body).kind == Kind::Newline && self.tok(body + 1).kind != Kind::Indent {
            return Err(self.syntax(
                body + 1,
                format!(
                    "expected an indented block after function definition on line {}",
                    self.tok(i).line
                ),
            ));
        }
        let params = (self.is(i + 2, "(") && !self.is(i + 3, ")")).then_some(i + 3);
        let end = skip_body(self.toks, body);
        let def = FunctionDef {
            body,
            unusual,
            params,
            end,
        };
        match name {
            "upgrade" => self.module.upgrade = Some(def),
            "downgrade" => self.module.downgrade = Some(def),
            _ => {}
        }
        self.module.names.set(name, Binding::Other);
        Ok(end)
    }

    /// Skip a compound statement (header line and block). When `forget`, every name the block
    /// might bind is forgotten.
    fn skip_compound(&mut self, i: usize, forget: bool) -> Result<usize, ScanError> {
        let mut k = i;
        let mut depth = 0usize; // block nesting
        let mut stmt_start = i;
        let mut in_import = false;
        loop {
            let t = *self.tok(k);
            match t.kind {
                Kind::End => return Ok(k),
                Kind::Newline => {
                    in_import = false;
                    stmt_start = k + 1;
                    if depth == 0 && self.tok(k + 1).kind != Kind::Indent {
                        // Continuation clauses (`else:`, `except:`...) follow at the same level.
                        if !self.is_clause(k + 1) {
                            return Ok(k + 1);
                        }
                    }
                }
                Kind::Indent => {
                    depth += 1;
                    stmt_start = k + 1;
                }
                Kind::Dedent => {
                    depth = depth.saturating_sub(1);
                    stmt_start = k + 1;
                    if depth == 0 && !self.is_clause(k + 1) {
                        return Ok(k + 1);
                    }
                }
                Kind::Name if forget => {
                    let name = self.text(k);
                    if name == "import" {
                        in_import = true;
                    } else if in_import
                        || (k > 0
                            && matches!(
                                self.text(k - 1),
                                "as" | "for" | "def" | "class" | "global"
                            ))
                    {
                        self.forget(name, k);
                    }
                }
                Kind::Op if forget => {
                    let op = self.text(k);
                    if op == ";" || op == ":" {
                        stmt_start = k + 1;
                    } else if op == "=" || op == ":=" || AUGMENTED.contains(&op) {
                        for n in stmt_start..k {
                            if self.tok(n).kind == Kind::Name {
                                self.forget(self.text(n), n);
                            }
                        }
                    }
                }
                _ => {}
            }
            k += 1;
        }
    }

    fn is_clause(&self, i: usize) -> bool {
        self.tok(i).kind == Kind::Name
            && matches!(
                self.text(i),
                "else" | "elif" | "except" | "finally" | "case"
            )
    }

    fn forget(&mut self, name: &'s str, at: usize) {
        if let Some(h) = header_index(name) {
            self.module.header[h] = HeaderSlot::Conditional { at };
        }
        if self.module.names.get(name).is_some() || !name.is_empty() {
            self.module.names.set(name, Binding::Other);
        }
    }

    /// The docstring, when the statement at `i` is only string literals (not f-strings, not
    /// bytes), possibly parenthesized.
    fn docstring(&self, i: usize) -> Result<Option<String>, ScanError> {
        let end = self.statement_end(i);
        let mut k = i;
        let mut opens = 0;
        while self.is(k, "(") {
            opens += 1;
            k += 1;
        }
        let first = k;
        while self.tok(k).kind == Kind::Str {
            let (p, ..) = split_token(self.text(k));
            if p.fstring || p.bytes {
                return Ok(None);
            }
            k += 1;
        }
        if k == first {
            return Ok(None);
        }
        for _ in 0..opens {
            if !self.is(k, ")") {
                return Ok(None);
            }
            k += 1;
        }
        if k != end {
            return Ok(None);
        }
        self.string_tokens(first, k, "the docstring").map(Some)
    }

    /// Decode the plain string tokens `from..to` (implicit concatenation).
    fn string_tokens(
        &self,
        from: usize,
        to: usize,
        what: &'static str,
    ) -> Result<String, ScanError> {
        let mut out = String::new();
        for k in from..to {
            let tok = self.text(k);
            let (p, body, body_at) = split_token(tok);
            decode_into(body, p.raw, body_at, &mut out).map_err(|e| {
                let t = *self.tok(k);
                match e {
                    LitError::Syntax { at, message } => ScanError::Syntax(Syntax {
                        line: t.line as usize,
                        line_start: t.line_start as usize,
                        offset: t.start as usize + at,
                        message,
                    }),
                    LitError::Unsupported { what: w, .. } => ScanError::Header {
                        at: k,
                        var: what,
                        problem: format!("uses {w}, which migrate does not decode"),
                    },
                }
            })?;
        }
        Ok(out)
    }

    /// One simple statement `i..end` (`end` is its `;` or NEWLINE).
    fn simple(&mut self, i: usize, end: usize) -> Result<(), ScanError> {
        let t = *self.tok(i);
        if t.kind != Kind::Name {
            return self.forget_targets(i, end);
        }
        let name = self.text(i);
        match name {
            "import" => return self.import(i + 1, end, None),
            "from" => {
                let mut k = i + 1;
                let mut module = String::new();
                while !self.is(k, "import") && k < end {
                    module.push_str(self.text(k));
                    k += 1;
                }
                return self.import(k + 1, end, Some(module));
            }
            "global" | "nonlocal" | "del" => {
                for k in i + 1..end {
                    if self.tok(k).kind == Kind::Name {
                        self.forget(self.text(k), k);
                    }
                }
                return Ok(());
            }
            _ => {}
        }
        if self.is(i + 1, "=") || self.is(i + 1, ":") {
            return self.assignment(i, end);
        }
        if self.is(i + 1, "+=") {
            // `SQL += "..."` at module level: fold when both sides are strings.
            let mut k = i + 2;
            let folded = {
                let mut f = Folder::new(self.src, self.toks, &self.module.names);
                f.expr(&mut k)
            };
            let old = match self.module.names.get(name) {
                Some(Binding::Value(Value::Str(s))) => Some(s.clone()),
                _ => None,
            };
            if let Some(h) = header_index(name) {
                return Err(ScanError::Header {
                    at: i,
                    var: HEADER_VARS[h],
                    problem: "is changed with '+='; it must be assigned a literal".into(),
                });
            }
            let binding = match (old, folded) {
                (Some(old), Ok(Value::Str(add))) if k == end => {
                    Binding::Value(Value::Str(old + &add))
                }
                (_, Err(Stop::Syntax(s))) => return Err(ScanError::Syntax(s)),
                _ => Binding::Other,
            };
            self.module.names.set(name, binding);
            return Ok(());
        }
        self.forget_targets(i, end)
    }

    /// For statements that may bind names we do not read (`a, b = ...`, `x.y = ...`, `f(x := 1)`):
    /// forget every name before the `=`.
    fn forget_targets(&mut self, i: usize, end: usize) -> Result<(), ScanError> {
        let mut depth = 0usize;
        for k in i..end {
            if self.tok(k).kind != Kind::Op {
                continue;
            }
            match self.text(k) {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                op if (op == "=" && depth == 0) || op == ":=" || AUGMENTED.contains(&op) => {
                    for n in i..k {
                        if self.tok(n).kind == Kind::Name {
                            self.forget(self.text(n), n);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `import a.b [as c], ...` (from = None) or `from M import x [as y], ...` (names from `k`).
    fn import(&mut self, mut k: usize, end: usize, from: Option<String>) -> Result<(), ScanError> {
        if let Some(m) = &from {
            if self.is(k, "*") {
                let names: Vec<&'s str> =
                    self.module.names.entries.iter().map(|(n, _)| *n).collect();
                for n in names {
                    self.module.names.set(n, Binding::Other);
                }
                let _ = m;
                return Ok(());
            }
        }
        while k < end {
            if self.is(k, "(") || self.is(k, ")") || self.is(k, ",") {
                k += 1;
                continue;
            }
            if self.tok(k).kind != Kind::Name {
                k += 1;
                continue;
            }
            let first = k;
            let mut dotted = String::from(self.text(k));
            k += 1;
            while self.is(k, ".") && self.tok(k + 1).kind == Kind::Name {
                dotted.push('.');
                dotted.push_str(self.text(k + 1));
                k += 2;
            }
            let (bound, path) = if self.is(k, "as") && self.tok(k + 1).kind == Kind::Name {
                k += 2;
                (self.text(k - 1), dotted)
            } else if from.is_some() {
                (self.text(first), dotted)
            } else {
                (self.text(first), self.text(first).to_string())
            };
            let binding = match &from {
                Some(m) if m.starts_with('.') => Binding::Other,
                Some(m) => Binding::Path(format!("{m}.{path}")),
                None => Binding::Path(path),
            };
            if let Some(h) = header_index(bound) {
                self.module.header[h] = HeaderSlot::Conditional { at: first };
            }
            self.module.names.set(bound, binding);
        }
        Ok(())
    }

    /// `NAME [: annotation] = [NAME =]* value` at `i`, ending at `end`.
    fn assignment(&mut self, i: usize, end: usize) -> Result<(), ScanError> {
        let mut targets = vec![(self.text(i), i)];
        let mut k = i + 1;
        if self.is(k, ":") {
            let mut depth = 0usize;
            k += 1;
            while k < end && !(depth == 0 && self.is(k, "=")) {
                match self.text(k) {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                k += 1;
            }
            if k >= end {
                return Ok(()); // `name: annotation` binds nothing
            }
        }
        k += 1;
        while self.tok(k).kind == Kind::Name && self.is(k + 1, "=") {
            targets.push((self.text(k), k));
            k += 2;
        }
        let value_at = k;
        let first_header = targets.iter().find_map(|(n, _)| header_index(n));
        let folded = if let Some(h) = first_header {
            // A header value is a literal: no need to fold it again as a constant.
            let value = self.header_literal(value_at, end, HEADER_VARS[h])?;
            for (n, _) in &targets {
                if let Some(h) = header_index(n) {
                    self.module.header[h] = HeaderSlot::Literal {
                        value: value.clone(),
                        at: value_at,
                    };
                }
            }
            match value {
                HeaderValue::None => Some(Value::None),
                HeaderValue::Str(s) => Some(Value::Str(s)),
                HeaderValue::Seq(_) | HeaderValue::Computed(_) | HeaderValue::Labels { .. } => None,
            }
        } else {
            let mut f = Folder::new(self.src, self.toks, &self.module.names);
            let mut v = value_at;
            match f.expr(&mut v) {
                // An iterator bound to a name would be used up by its first reader.
                Ok(Value::Iter(..)) => None,
                Ok(value) if v == end => Some(value),
                Ok(_) => None,
                Err(Stop::Syntax(s)) => return Err(ScanError::Syntax(s)),
                Err(Stop::Unrunnable(_)) => None,
            }
        };
        for (name, _) in targets {
            let binding = match &folded {
                Some(v) => Binding::Value(v.clone()),
                None => Binding::Other,
            };
            self.module.names.set(name, binding);
        }
        Ok(())
    }

    /// A header value: `None`, a string (implicit concatenation, parentheses), or a tuple/list of
    /// strings.
    fn header_literal(
        &self,
        i: usize,
        end: usize,
        var: &'static str,
    ) -> Result<HeaderValue, ScanError> {
        let not_literal = |at: usize| {
            let found =
                self.src[self.tok(i).start as usize..self.tok(end).start as usize].trim_end();
            ScanError::Header {
                at,
                var,
                problem: format!(
                    "must be a literal (a string, None, or a tuple or list of strings), found `{found}`"
                ),
            }
        };
        let mut k = i;
        let value = self
            .header_item(&mut k, var, true)
            .map_err(|e| e.unwrap_or_else(|| not_literal(i)))?;
        if k != end {
            return Err(not_literal(i));
        }
        Ok(value)
    }

    /// One header item at `*k`. `Err(None)` means "not a literal".
    fn header_item(
        &self,
        k: &mut usize,
        var: &'static str,
        allow_seq: bool,
    ) -> Result<HeaderValue, Option<ScanError>> {
        let t = *self.tok(*k);
        match t.kind {
            Kind::Name if self.text(*k) == "None" && allow_seq => {
                *k += 1;
                Ok(HeaderValue::None)
            }
            Kind::Str => {
                let first = *k;
                while self.tok(*k).kind == Kind::Str {
                    let (p, ..) = split_token(self.text(*k));
                    if p.fstring || p.bytes {
                        return Err(None);
                    }
                    *k += 1;
                }
                Ok(HeaderValue::Str(
                    self.string_tokens(first, *k, var).map_err(Some)?,
                ))
            }
            Kind::Op if matches!(self.text(*k), "(" | "[") => {
                let close = if self.text(*k) == "(" { ")" } else { "]" };
                let is_list = close == "]";
                *k += 1;
                if self.is(*k, close) {
                    *k += 1;
                    return if allow_seq {
                        Ok(HeaderValue::Seq(Vec::new()))
                    } else {
                        Err(None)
                    };
                }
                let first = self.header_item(k, var, allow_seq && !is_list)?;
                if self.is(*k, close) && !is_list {
                    *k += 1;
                    return Ok(first); // parentheses around a value
                }
                if !allow_seq {
                    return Err(None);
                }
                let mut literal = Vec::new();
                let mut computed = Vec::new();
                let mut item = first;
                loop {
                    match item {
                        HeaderValue::Str(s) => literal.push(s),
                        HeaderValue::Computed(name) => computed.push(name),
                        _ => return Err(None),
                    }
                    if self.is(*k, close) {
                        *k += 1;
                        return Ok(if computed.is_empty() {
                            HeaderValue::Seq(literal)
                        } else {
                            HeaderValue::Labels { literal, computed }
                        });
                    }
                    if !self.is(*k, ",") {
                        return Err(None);
                    }
                    *k += 1;
                    if self.is(*k, close) {
                        *k += 1;
                        return Ok(if computed.is_empty() {
                            HeaderValue::Seq(literal)
                        } else {
                            HeaderValue::Labels { literal, computed }
                        });
                    }
                    item = self.header_item(k, var, false)?;
                }
            }
            Kind::Name if var == "branch_labels" => self.label_name(k),
            _ => Err(None),
        }
    }

    /// A `branch_labels` item that is a name: a string constant of this module gives its
    /// value; a name imported from elsewhere (`cli.EXPAND_BRANCH`, `EXPAND_BRANCH` after `from
    /// x import EXPAND_BRANCH`) is kept as written, since only Python knows its value; anything
    /// else is not a literal.
    fn label_name(&self, k: &mut usize) -> Result<HeaderValue, Option<ScanError>> {
        let root = self.text(*k);
        let start = *k;
        *k += 1;
        while self.is(*k, ".") && self.tok(*k + 1).kind == Kind::Name {
            *k += 2;
        }
        match self.module.names.get(root) {
            Some(Binding::Value(Value::Str(s))) if *k == start + 1 => {
                Ok(HeaderValue::Str(s.clone()))
            }
            Some(Binding::Path(_)) => {
                let text = (start..*k).map(|i| self.text(i)).collect::<String>();
                Ok(HeaderValue::Computed(text))
            }
            _ => Err(None),
        }
    }
}
