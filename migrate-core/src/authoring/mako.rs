//! The part of Mako that revision templates (`script.py.mako`) use, rendered as Mako renders it.
//!
//! Alembic's own templates and the usual customised ones use: `${expr}` with an optional
//! filter list (`${down_revision | comma,n}`), control lines (`% if ...:`, `% elif ...:`,
//! `% else:`, `% endif`, `% for x in ...:`, `% endfor`), `%%` for a literal `%` at the start of
//! a line, `## comment` lines, `<%text>...</%text>`, `<%doc>...</%doc>` and a backslash that
//! joins a line to the next. Expressions are a small part of Python: names, string, number,
//! `None`/`True`/`False`, tuple and list literals, `repr()`, `str()`, `len()`, `bool()`,
//! `sorted()`, `list()`, `tuple()`, calls of the template's functions (`comma`), indexing, `+`,
//! `==`, `!=`, `in`, `not in`, `is`, `is not`, `not`, `and`, `or` and `X if C else Y`.
//!
//! Anything else (`<% %>` and `<%! %>` Python blocks, `<%def>`, `<%include>`, attribute
//! access, ...) is a [`TemplateError`] naming the construct and its line: migrate does not run
//! Python, so it cannot render such a template the way Alembic would.
//!
//! As in Mako, a name the template does not receive (`upgrades`, `imports`: Alembic passes
//! them only when autogenerating) is "undefined": false in a test, an error when written.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::render::{py_repr, CreateDate};

/// What the template may do, for error messages.
const SUPPORTED: &str =
    "${...} over the template's variables, % if/elif/else/endif, % for/endfor, \
<%text>, <%doc> and ## comments";

/// Why a template cannot be rendered: the line, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{template}:{line}: {problem}")]
pub struct TemplateError {
    /// The template, as named to [`Template::parse`].
    pub template: String,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong, naming the construct.
    pub problem: String,
}

/// A value a template sees.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A `str`.
    Str(String),
    /// A `tuple` (Alembic's `down_revision` of a merge, `branch_labels`).
    Tuple(Vec<Value>),
    /// A `list` (Alembic's `depends_on` of several).
    List(Vec<Value>),
    /// A `datetime` (`create_date`).
    DateTime(CreateDate),
    /// A function the template may call or filter with.
    Function(Function),
    /// An object the template receives but migrate cannot look into (Alembic's `config`).
    Opaque(&'static str),
}

/// The functions a template may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// Alembic's `format_as_comma`: `None` -> `""`, a string as itself, a sequence joined by
    /// `", "`.
    Comma,
    /// `repr`.
    Repr,
    /// `str`.
    Str,
    /// `len`.
    Len,
    /// `bool`.
    Bool,
    /// `sorted`.
    Sorted,
    /// `list`.
    List,
    /// `tuple`.
    Tuple,
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Expr {
        expr: Expr,
        filters: Vec<String>,
        line: usize,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
        line: usize,
    },
    For {
        var: String,
        iter: Expr,
        body: Vec<Node>,
        line: usize,
    },
}

#[derive(Debug, Clone)]
enum Expr {
    Literal(Value),
    Name(String),
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, CompareOp, Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
    IfElse {
        then: Box<Expr>,
        test: Box<Expr>,
        otherwise: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompareOp {
    Eq,
    Ne,
    In,
    NotIn,
    Is,
    IsNot,
}

/// A block being built while parsing: the `if`/`for` that opened it and its nodes so far.
enum Open {
    Root(Vec<Node>),
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        current: Option<Expr>,
        body: Vec<Node>,
        seen_else: bool,
        line: usize,
    },
    For {
        var: String,
        iter: Expr,
        body: Vec<Node>,
        line: usize,
    },
}

impl Open {
    fn nodes(&mut self) -> &mut Vec<Node> {
        match self {
            Open::Root(nodes) => nodes,
            Open::If { body, .. } => body,
            Open::For { body, .. } => body,
        }
    }
}

impl Template {
    /// Parses `source`; `name` names the template in errors (e.g. its path).
    pub fn parse(source: &str, name: &str) -> Result<Template, TemplateError> {
        Parser {
            name,
            src: source,
            pos: 0,
            line: 1,
            stack: vec![Open::Root(Vec::new())],
            text: String::new(),
        }
        .run()
        .map(|nodes| Template {
            name: name.to_string(),
            nodes,
        })
    }

    /// Renders the template with `vars` (names not in `vars` are undefined, as in Mako).
    pub fn render(&self, vars: &BTreeMap<String, Value>) -> Result<String, TemplateError> {
        let mut scope = Scope {
            vars,
            locals: Vec::new(),
        };
        let mut out = String::new();
        render_nodes(&self.nodes, &mut scope, &mut out, &self.name)?;
        Ok(out)
    }
}

struct Parser<'a> {
    name: &'a str,
    src: &'a str,
    pos: usize,
    line: usize,
    stack: Vec<Open>,
    text: String,
}

impl<'a> Parser<'a> {
    fn fail(&self, line: usize, problem: impl Into<String>) -> TemplateError {
        TemplateError {
            template: self.name.to_string(),
            line,
            problem: problem.into(),
        }
    }

    fn unsupported(&self, line: usize, construct: &str) -> TemplateError {
        self.fail(line, beyond(construct))
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            self.push(Node::Text(text));
        }
    }

    fn push(&mut self, node: Node) {
        if let Some(open) = self.stack.last_mut() {
            open.nodes().push(node);
        }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn advance(&mut self, bytes: usize) {
        let taken = &self.src[self.pos..self.pos + bytes];
        self.line += taken.matches('\n').count();
        self.pos += bytes;
    }

    fn run(mut self) -> Result<Vec<Node>, TemplateError> {
        while self.pos < self.src.len() {
            let at_line_start = self.pos == 0 || self.src.as_bytes()[self.pos - 1] == b'\n';
            if at_line_start && self.line_construct()? {
                continue;
            }
            let rest = self.rest();
            if let Some(after) = rest.strip_prefix("${") {
                let line = self.line;
                let (inner, len) = expression_text(after)
                    .ok_or_else(|| self.fail(line, "`${` without its closing `}`"))?;
                let (expr_text, filters) = split_filters(inner);
                let expr = parse_expression(expr_text)
                    .map_err(|problem| self.expression_error(line, expr_text, problem))?;
                self.flush_text();
                self.push(Node::Expr {
                    expr,
                    filters,
                    line,
                });
                self.advance(2 + len + 1);
            } else if let Some(body) = rest.strip_prefix("<%text>") {
                let end = body
                    .find("</%text>")
                    .ok_or_else(|| self.fail(self.line, "`<%text>` without `</%text>`"))?;
                self.text.push_str(&body[..end]);
                self.advance("<%text>".len() + end + "</%text>".len());
            } else if rest.starts_with("<%doc>") {
                let end = rest
                    .find("</%doc>")
                    .ok_or_else(|| self.fail(self.line, "`<%doc>` without `</%doc>`"))?;
                self.advance(end + "</%doc>".len());
            } else if rest.starts_with("<%") {
                return Err(self.unsupported(self.line, &tag_name(rest)));
            } else if rest.starts_with("\\\n") {
                // A backslash ending a line joins it to the next.
                self.advance(2);
            } else if rest.starts_with("\\\r\n") {
                self.advance(3);
            } else {
                let ch = rest.chars().next().unwrap_or_default();
                self.text.push(ch);
                self.advance(ch.len_utf8());
            }
        }
        self.flush_text();
        let line = self.line;
        match self.stack.pop() {
            Some(Open::Root(nodes)) if self.stack.is_empty() => Ok(nodes),
            Some(Open::If { line, .. }) => Err(self.fail(line, "`% if` without `% endif`")),
            Some(Open::For { line, .. }) => Err(self.fail(line, "`% for` without `% endfor`")),
            _ => Err(self.fail(line, "unbalanced control lines")),
        }
    }

    /// A `##` comment, `%%` or `%` control line at the current line start; true when one was
    /// consumed (for `%%`, its `%` is text and the rest of the line is read as usual).
    fn line_construct(&mut self) -> Result<bool, TemplateError> {
        let rest = self.rest();
        let line_len = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
        let whole = &rest[..line_len];
        let trimmed = whole.trim_start_matches([' ', '\t']);
        let indent = whole.len() - trimmed.len();
        if trimmed.starts_with("##") {
            self.advance(line_len);
            return Ok(true);
        }
        if trimmed.starts_with("%%") {
            self.text.push_str(&whole[..indent]);
            self.text.push('%');
            self.advance(indent + 2);
            return Ok(true);
        }
        let Some(control) = trimmed.strip_prefix('%') else {
            return Ok(false);
        };
        let control = control.trim().to_string();
        let line = self.line;
        self.flush_text();
        self.advance(line_len);
        self.control(&control, line)?;
        Ok(true)
    }

    fn control(&mut self, control: &str, line: usize) -> Result<(), TemplateError> {
        let keyword: String = control
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let body = control[keyword.len()..].trim();
        let condition = |p: &Parser, what: &str| -> Result<Expr, TemplateError> {
            let Some(test) = body.strip_suffix(':') else {
                return Err(p.fail(line, format!("`% {what}` must end with `:`")));
            };
            parse_expression(test.trim()).map_err(|problem| p.expression_error(line, test, problem))
        };
        match keyword.as_str() {
            "if" => {
                let test = condition(self, "if")?;
                self.stack.push(Open::If {
                    branches: Vec::new(),
                    current: Some(test),
                    body: Vec::new(),
                    seen_else: false,
                    line,
                });
            }
            "elif" | "else" => {
                let test = if keyword == "elif" {
                    Some(condition(self, "elif")?)
                } else if body == ":" {
                    None
                } else {
                    return Err(self.fail(line, "`% else` must be `% else:`"));
                };
                match self.stack.last_mut() {
                    Some(Open::If {
                        branches,
                        current,
                        body,
                        seen_else,
                        ..
                    }) => {
                        let (Some(done), false) = (current.take(), *seen_else) else {
                            return Err(self.fail(line, format!("`% {keyword}` after `% else`")));
                        };
                        *seen_else = test.is_none();
                        branches.push((done, std::mem::take(body)));
                        // `else` is the branch whose test always holds.
                        *current = Some(test.unwrap_or(Expr::Literal(Value::Bool(true))));
                    }
                    _ => return Err(self.fail(line, format!("`% {keyword}` outside `% if`"))),
                }
            }
            "endif" => match self.stack.pop() {
                Some(Open::If {
                    mut branches,
                    current,
                    body,
                    line: opened,
                    ..
                }) => {
                    if let Some(test) = current {
                        branches.push((test, body));
                    }
                    self.push(Node::If {
                        branches,
                        otherwise: Vec::new(),
                        line: opened,
                    });
                }
                other => {
                    if let Some(other) = other {
                        self.stack.push(other);
                    }
                    return Err(self.fail(line, "`% endif` without `% if`"));
                }
            },
            "for" => {
                let Some(spec) = body.strip_suffix(':') else {
                    return Err(self.fail(line, "`% for` must end with `:`"));
                };
                let Some((var, iter)) = spec.split_once(" in ") else {
                    return Err(self.fail(line, "`% for` must read `% for NAME in EXPRESSION:`"));
                };
                let var = var.trim();
                if var.is_empty() || !var.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(
                        self.unsupported(line, &format!("`% for {var} in ...` (unpacking)"))
                    );
                }
                let iter = parse_expression(iter.trim())
                    .map_err(|problem| self.expression_error(line, iter, problem))?;
                self.stack.push(Open::For {
                    var: var.to_string(),
                    iter,
                    body: Vec::new(),
                    line,
                });
            }
            "endfor" => match self.stack.pop() {
                Some(Open::For {
                    var,
                    iter,
                    body,
                    line: opened,
                }) => self.push(Node::For {
                    var,
                    iter,
                    body,
                    line: opened,
                }),
                other => {
                    if let Some(other) = other {
                        self.stack.push(other);
                    }
                    return Err(self.fail(line, "`% endfor` without `% for`"));
                }
            },
            _ => {
                return Err(self.unsupported(line, &format!("the control line `% {control}`")));
            }
        }
        Ok(())
    }

    fn expression_error(&self, line: usize, text: &str, problem: String) -> TemplateError {
        if let Some(construct) = problem.strip_prefix("unsupported: ") {
            self.unsupported(line, &format!("{construct} (in `{}`)", text.trim()))
        } else {
            self.fail(line, format!("`{}`: {problem}", text.trim()))
        }
    }
}

/// The message for a construct migrate does not render.
fn beyond(construct: &str) -> String {
    format!(
        "{construct} is beyond the part of Mako migrate renders ({SUPPORTED}); write this revision with \
         `alembic revision`, or keep script.py.mako to that part"
    )
}

/// A problem found while evaluating, worded for the user: `unsupported: X` names the construct.
fn explain(problem: String) -> String {
    match problem.strip_prefix("unsupported: ") {
        Some(construct) => beyond(construct),
        None => problem,
    }
}

/// `<%!`, `<%def`, `<%include` ... as named in errors.
fn tag_name(rest: &str) -> String {
    let after = &rest[2..];
    if after.starts_with('!') {
        return "`<%!` (a module-level Python block)".to_string();
    }
    if after.starts_with(|c: char| c.is_whitespace()) {
        return "`<% %>` (a Python block)".to_string();
    }
    let name: String = after
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == ':' || *c == '_')
        .collect();
    format!("the `<%{name}>` tag")
}

/// The characters of `text` outside string literals, with their byte offsets and the bracket
/// depth before each (`(`, `[`, `{` open, `)`, `]`, `}` close).
fn outside_strings(text: &str) -> impl Iterator<Item = (usize, char, usize)> + '_ {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    text.char_indices().filter_map(move |(i, c)| {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            return None;
        }
        let before = depth;
        match c {
            '\'' | '"' => {
                quote = Some(c);
                return None;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        Some((i, c, before))
    })
}

/// The text of a `${...}` expression (after `${`) up to its closing `}`, skipping braces and
/// quotes inside strings; with its length in bytes.
fn expression_text(after: &str) -> Option<(&str, usize)> {
    outside_strings(after)
        .find(|(_, c, depth)| *c == '}' && *depth == 0)
        .map(|(i, _, _)| (&after[..i], i))
}

/// `expr | f1, f2` -> (`expr`, [`f1`, `f2`]): the last `|` outside strings and brackets
/// followed by filter names.
fn split_filters(inner: &str) -> (&str, Vec<String>) {
    let bar = outside_strings(inner)
        .filter(|(_, c, depth)| *c == '|' && *depth == 0)
        .map(|(i, _, _)| i)
        .last();
    let Some(bar) = bar else {
        return (inner, Vec::new());
    };
    let names: Vec<String> = inner[bar + 1..]
        .split(',')
        .map(|f| f.trim().to_string())
        .collect();
    if names
        .iter()
        .all(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        (&inner[..bar], names)
    } else {
        (inner, Vec::new())
    }
}

// ---------------------------------------------------------------------------------------------
// Expressions

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Str(String),
    Int(i64),
    Op(&'static str),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let prefixed_string =
            matches!(c, 'u' | 'U' | 'r' | 'R') && matches!(chars.get(i + 1), Some('\'' | '"'));
        if c == '\'' || c == '"' || prefixed_string {
            let raw = matches!(c, 'r' | 'R');
            if prefixed_string {
                i += 1;
            }
            let quote = chars[i];
            if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                return Err("unsupported: a triple-quoted string".to_string());
            }
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&ch) = chars.get(i) else {
                    return Err("a string without its closing quote".to_string());
                };
                i += 1;
                if ch == quote {
                    break;
                }
                if ch == '\\' && !raw {
                    let Some(&next) = chars.get(i) else {
                        return Err("a string without its closing quote".to_string());
                    };
                    i += 1;
                    match next {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        'r' => s.push('\r'),
                        '\\' | '\'' | '"' => s.push(next),
                        '0' => s.push('\0'),
                        other => {
                            s.push('\\');
                            s.push(other);
                        }
                    }
                } else {
                    s.push(ch);
                }
            }
            out.push(Token::Str(s));
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            if chars
                .get(i)
                .is_some_and(|c| c.is_alphanumeric() || *c == '.')
            {
                return Err("unsupported: a number that is not a plain integer".to_string());
            }
            out.push(Token::Int(
                digits.parse().map_err(|_| "an integer too large")?,
            ));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Name(chars[start..i].iter().collect()));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op = match two.as_str() {
            "==" => Some("=="),
            "!=" => Some("!="),
            _ => None,
        };
        if let Some(op) = op {
            out.push(Token::Op(op));
            i += 2;
            continue;
        }
        let op = match c {
            '(' => "(",
            ')' => ")",
            '[' => "[",
            ']' => "]",
            ',' => ",",
            '+' => "+",
            '-' => "-",
            '.' => return Err("unsupported: attribute access (`.`)".to_string()),
            other => return Err(format!("unsupported: the operator `{other}`")),
        };
        out.push(Token::Op(op));
        i += 1;
    }
    Ok(out)
}

fn parse_expression(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("an empty expression".to_string());
    }
    let mut p = ExprParser { tokens, pos: 0 };
    let expr = p.ternary()?;
    match p.tokens.get(p.pos) {
        None => Ok(expr),
        Some(Token::Name(n)) if n == "for" => {
            Err("unsupported: a comprehension (`for` inside an expression)".to_string())
        }
        Some(Token::Name(n)) if n == "lambda" => Err("unsupported: `lambda`".to_string()),
        Some(other) => Err(format!(
            "unexpected {} after the expression",
            describe(other)
        )),
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Name(n) => format!("`{n}`"),
        Token::Str(s) => format!("the string {}", py_repr(s)),
        Token::Int(n) => format!("`{n}`"),
        Token::Op(o) => format!("`{o}`"),
    }
}

struct ExprParser {
    tokens: Vec<Token>,
    pos: usize,
}

impl ExprParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn is_name(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Name(n)) if n == word)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token::Op(o)) if *o == op)
    }

    fn expect_op(&mut self, op: &str) -> Result<(), String> {
        if self.is_op(op) {
            self.pos += 1;
            Ok(())
        } else {
            Err(match self.peek() {
                Some(Token::Name(n)) if n == "for" => {
                    "unsupported: a comprehension (`for` inside an expression)".to_string()
                }
                Some(t) => format!("expected `{op}`, found {}", describe(t)),
                None => format!("expected `{op}` at the end"),
            })
        }
    }

    fn ternary(&mut self) -> Result<Expr, String> {
        let then = self.or()?;
        if !self.is_name("if") {
            return Ok(then);
        }
        self.pos += 1;
        let test = self.or()?;
        if !self.is_name("else") {
            return Err("`X if C` needs its `else Y`".to_string());
        }
        self.pos += 1;
        let otherwise = self.ternary()?;
        Ok(Expr::IfElse {
            then: Box::new(then),
            test: Box::new(test),
            otherwise: Box::new(otherwise),
        })
    }

    /// `operand (word operand)*`, left-associative: `or` over `and`, `and` over `not`.
    fn chain(
        &mut self,
        word: &str,
        operand: fn(&mut Self) -> Result<Expr, String>,
        join: fn(Box<Expr>, Box<Expr>) -> Expr,
    ) -> Result<Expr, String> {
        let mut left = operand(self)?;
        while self.is_name(word) {
            self.pos += 1;
            left = join(Box::new(left), Box::new(operand(self)?));
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.chain("or", Self::and, Expr::Or)
    }

    fn and(&mut self) -> Result<Expr, String> {
        self.chain("and", Self::not, Expr::And)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.is_name("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.sum()?;
        let op = if self.is_op("==") {
            CompareOp::Eq
        } else if self.is_op("!=") {
            CompareOp::Ne
        } else if self.is_name("in") {
            CompareOp::In
        } else if self.is_name("is") {
            if matches!(self.tokens.get(self.pos + 1), Some(Token::Name(n)) if n == "not") {
                self.pos += 1;
                CompareOp::IsNot
            } else {
                CompareOp::Is
            }
        } else if self.is_name("not")
            && matches!(self.tokens.get(self.pos + 1), Some(Token::Name(n)) if n == "in")
        {
            self.pos += 1;
            CompareOp::NotIn
        } else {
            return Ok(left);
        };
        self.pos += 1;
        let right = self.sum()?;
        Ok(Expr::Compare(Box::new(left), op, Box::new(right)))
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            if self.is_op("+") {
                self.pos += 1;
                left = Expr::Add(Box::new(left), Box::new(self.unary()?));
            } else if self.is_op("-") {
                return Err("unsupported: subtraction".to_string());
            } else {
                return Ok(left);
            }
        }
    }

    /// `-N`: a negative integer (for indexing from the end).
    fn unary(&mut self) -> Result<Expr, String> {
        if !self.is_op("-") {
            return self.postfix();
        }
        self.pos += 1;
        match self.peek() {
            Some(Token::Int(n)) => {
                let n = -*n;
                self.pos += 1;
                Ok(Expr::Literal(Value::Int(n)))
            }
            _ => Err("unsupported: `-` before anything but an integer".to_string()),
        }
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let mut expr = self.atom()?;
        loop {
            if self.is_op("(") {
                self.pos += 1;
                let args = self.items(")")?;
                expr = Expr::Call(Box::new(expr), args);
            } else if self.is_op("[") {
                self.pos += 1;
                let index = self.ternary()?;
                self.expect_op("]")?;
                expr = Expr::Index(Box::new(expr), Box::new(index));
            } else {
                return Ok(expr);
            }
        }
    }

    /// Comma-separated expressions up to `close`; a trailing comma is allowed.
    fn items(&mut self, close: &str) -> Result<Vec<Expr>, String> {
        let mut items = Vec::new();
        loop {
            if self.is_op(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.ternary()?);
            if self.is_op(",") {
                self.pos += 1;
            } else {
                self.expect_op(close)?;
                return Ok(items);
            }
        }
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let Some(token) = self.peek().cloned() else {
            return Err("an expression ends too early".to_string());
        };
        self.pos += 1;
        match token {
            Token::Int(n) => Ok(Expr::Literal(Value::Int(n))),
            Token::Str(mut s) => {
                // Adjacent literals concatenate, as in Python.
                while let Some(Token::Str(next)) = self.peek().cloned() {
                    s.push_str(&next);
                    self.pos += 1;
                }
                Ok(Expr::Literal(Value::Str(s)))
            }
            Token::Name(n) => match n.as_str() {
                "None" => Ok(Expr::Literal(Value::None)),
                "True" => Ok(Expr::Literal(Value::Bool(true))),
                "False" => Ok(Expr::Literal(Value::Bool(false))),
                "lambda" => Err("unsupported: `lambda`".to_string()),
                "if" | "else" | "and" | "or" | "not" | "in" | "is" | "for" => {
                    Err(format!("unexpected `{n}`"))
                }
                _ => Ok(Expr::Name(n)),
            },
            Token::Op("(") => {
                let first_comma_tuple = self.is_op(")");
                let items = self.items(")")?;
                let was_tuple = first_comma_tuple
                    || items.len() != 1
                    || matches!(self.tokens.get(self.pos - 2), Some(Token::Op(",")));
                if was_tuple {
                    Ok(Expr::Tuple(items))
                } else {
                    Ok(items
                        .into_iter()
                        .next()
                        .unwrap_or(Expr::Literal(Value::None)))
                }
            }
            Token::Op("[") => Ok(Expr::List(self.items("]")?)),
            other => Err(format!("unexpected {}", describe(&other))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

struct Scope<'a> {
    vars: &'a BTreeMap<String, Value>,
    locals: Vec<(String, Value)>,
}

/// A name looked up: a value, or undefined (Mako's `UNDEFINED`).
enum Lookup {
    Defined(Value),
    Undefined(String),
}

impl Scope<'_> {
    fn lookup(&self, name: &str) -> Lookup {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Lookup::Defined(v.clone());
        }
        if let Some(v) = self.vars.get(name) {
            return Lookup::Defined(v.clone());
        }
        let builtin = match name {
            "repr" => Function::Repr,
            "str" => Function::Str,
            "len" => Function::Len,
            "bool" => Function::Bool,
            "sorted" => Function::Sorted,
            "list" => Function::List,
            "tuple" => Function::Tuple,
            _ => return Lookup::Undefined(name.to_string()),
        };
        Lookup::Defined(Value::Function(builtin))
    }
}

fn render_nodes(
    nodes: &[Node],
    scope: &mut Scope,
    out: &mut String,
    template: &str,
) -> Result<(), TemplateError> {
    let fail = |line: usize, problem: String| TemplateError {
        template: template.to_string(),
        line,
        problem: explain(problem),
    };
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Expr {
                expr,
                filters,
                line,
            } => {
                let mut value = eval(expr, scope).map_err(|p| fail(*line, p))?;
                let no_default = filters.iter().any(|f| f == "n");
                if !no_default {
                    value = Value::Str(to_str(&value).map_err(|p| fail(*line, p))?);
                }
                for filter in filters.iter().filter(|f| *f != "n") {
                    value = apply_filter(filter, value, scope).map_err(|p| fail(*line, p))?;
                }
                out.push_str(&to_str(&value).map_err(|p| fail(*line, p))?);
            }
            Node::If {
                branches,
                otherwise,
                line,
            } => {
                let mut taken = false;
                for (test, body) in branches {
                    let value = eval_lenient(test, scope).map_err(|p| fail(*line, p))?;
                    if truthy(&value) {
                        render_nodes(body, scope, out, template)?;
                        taken = true;
                        break;
                    }
                }
                if !taken {
                    render_nodes(otherwise, scope, out, template)?;
                }
            }
            Node::For {
                var,
                iter,
                body,
                line,
            } => {
                let items = match eval(iter, scope).map_err(|p| fail(*line, p))? {
                    Value::Tuple(items) | Value::List(items) => items,
                    Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
                    other => {
                        return Err(fail(
                            *line,
                            format!("`% for` over {}, which is not iterable", type_name(&other)),
                        ))
                    }
                };
                for item in items {
                    scope.locals.push((var.clone(), item));
                    let rendered = render_nodes(body, scope, out, template);
                    scope.locals.pop();
                    rendered?;
                }
            }
        }
    }
    Ok(())
}

/// The message for using an undefined name other than in a test.
fn undefined(name: &str) -> String {
    format!(
        "`{name}` is not defined for a new revision (Alembic passes `upgrades`, `downgrades` and `imports` only when \
         autogenerating; write `${{{name} if {name} else \"pass\"}}` to give it a default)"
    )
}

/// Evaluates a test: an undefined name there is false, as Mako's `UNDEFINED` is.
fn eval_lenient(expr: &Expr, scope: &Scope) -> Result<Value, String> {
    match expr {
        Expr::Name(name) => match scope.lookup(name) {
            Lookup::Defined(v) => Ok(v),
            Lookup::Undefined(_) => Ok(Value::Bool(false)),
        },
        Expr::Not(inner) => Ok(Value::Bool(!truthy(&eval_lenient(inner, scope)?))),
        Expr::And(a, b) => {
            let left = eval_lenient(a, scope)?;
            if truthy(&left) {
                eval_lenient(b, scope)
            } else {
                Ok(left)
            }
        }
        Expr::Or(a, b) => {
            let left = eval_lenient(a, scope)?;
            if truthy(&left) {
                Ok(left)
            } else {
                eval_lenient(b, scope)
            }
        }
        other => eval(other, scope),
    }
}

fn eval(expr: &Expr, scope: &Scope) -> Result<Value, String> {
    match expr {
        Expr::Literal(v) => Ok(v.clone()),
        Expr::Name(name) => match scope.lookup(name) {
            Lookup::Defined(v) => Ok(v),
            Lookup::Undefined(name) => Err(undefined(&name)),
        },
        Expr::Tuple(items) => Ok(Value::Tuple(
            items
                .iter()
                .map(|e| eval(e, scope))
                .collect::<Result<_, _>>()?,
        )),
        Expr::List(items) => Ok(Value::List(
            items
                .iter()
                .map(|e| eval(e, scope))
                .collect::<Result<_, _>>()?,
        )),
        Expr::Call(callee, args) => {
            let Value::Function(f) = eval(callee, scope)? else {
                return Err("only the template's functions and repr/str/len/bool/sorted/list/tuple can be called".into());
            };
            let args: Vec<Value> = args
                .iter()
                .map(|a| eval(a, scope))
                .collect::<Result<_, _>>()?;
            let [arg] = args.as_slice() else {
                return Err(format!("{} takes exactly one argument", function_name(f)));
            };
            call(f, arg.clone())
        }
        Expr::Index(target, index) => {
            let target = eval(target, scope)?;
            let Value::Int(i) = eval(index, scope)? else {
                return Err("an index must be an integer".into());
            };
            let items: Vec<Value> = match target {
                Value::Tuple(items) | Value::List(items) => items,
                Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
                other => return Err(format!("{} cannot be indexed", type_name(&other))),
            };
            let len = items.len() as i64;
            let at = if i < 0 { len + i } else { i };
            if at < 0 || at >= len {
                return Err(format!("index {i} out of range"));
            }
            Ok(items[at as usize].clone())
        }
        Expr::Not(inner) => Ok(Value::Bool(!truthy(&eval_lenient(inner, scope)?))),
        Expr::And(..) | Expr::Or(..) => eval_lenient(expr, scope),
        Expr::Compare(a, op, b) => {
            let (a, b) = (eval(a, scope)?, eval(b, scope)?);
            let result = match op {
                CompareOp::Eq | CompareOp::Is => a == b,
                CompareOp::Ne | CompareOp::IsNot => a != b,
                CompareOp::In | CompareOp::NotIn => {
                    let found = match &b {
                        Value::Tuple(items) | Value::List(items) => items.contains(&a),
                        Value::Str(s) => match &a {
                            Value::Str(needle) => s.contains(needle.as_str()),
                            _ => return Err("`in <string>` needs a string on the left".into()),
                        },
                        other => return Err(format!("`in` over {}", type_name(other))),
                    };
                    if *op == CompareOp::In {
                        found
                    } else {
                        !found
                    }
                }
            };
            Ok(Value::Bool(result))
        }
        Expr::Add(a, b) => match (eval(a, scope)?, eval(b, scope)?) {
            (Value::Str(x), Value::Str(y)) => Ok(Value::Str(x + &y)),
            (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.wrapping_add(y))),
            (Value::Tuple(mut x), Value::Tuple(y)) => {
                x.extend(y);
                Ok(Value::Tuple(x))
            }
            (Value::List(mut x), Value::List(y)) => {
                x.extend(y);
                Ok(Value::List(x))
            }
            (x, y) => Err(format!(
                "cannot add {} and {}",
                type_name(&x),
                type_name(&y)
            )),
        },
        Expr::IfElse {
            then,
            test,
            otherwise,
        } => {
            if truthy(&eval_lenient(test, scope)?) {
                eval(then, scope)
            } else {
                eval(otherwise, scope)
            }
        }
    }
}

fn function_name(f: Function) -> &'static str {
    match f {
        Function::Comma => "comma",
        Function::Repr => "repr",
        Function::Str => "str",
        Function::Len => "len",
        Function::Bool => "bool",
        Function::Sorted => "sorted",
        Function::List => "list",
        Function::Tuple => "tuple",
    }
}

fn call(f: Function, arg: Value) -> Result<Value, String> {
    Ok(match f {
        Function::Repr => Value::Str(repr(&arg)?),
        Function::Str => Value::Str(to_str(&arg)?),
        Function::Bool => Value::Bool(truthy(&arg)),
        Function::Len => Value::Int(match &arg {
            Value::Str(s) => s.chars().count() as i64,
            Value::Tuple(items) | Value::List(items) => items.len() as i64,
            other => return Err(format!("{} has no len()", type_name(other))),
        }),
        Function::Comma => match arg {
            Value::None => Value::Str(String::new()),
            Value::Str(s) => Value::Str(s),
            Value::Tuple(items) | Value::List(items) => Value::Str(
                items
                    .iter()
                    .map(to_str)
                    .collect::<Result<Vec<_>, _>>()?
                    .join(", "),
            ),
            other => return Err(format!("Don't know how to comma-format {}", repr(&other)?)),
        },
        Function::Sorted | Function::List | Function::Tuple => {
            let mut items = match arg {
                Value::Tuple(items) | Value::List(items) => items,
                Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
                other => return Err(format!("{} is not iterable", type_name(&other))),
            };
            if f == Function::Sorted {
                let mut keys = Vec::with_capacity(items.len());
                for item in &items {
                    match item {
                        Value::Str(s) => keys.push(s.clone()),
                        _ => return Err("sorted() sorts strings only here".into()),
                    }
                }
                keys.sort();
                items = keys.into_iter().map(Value::Str).collect();
            }
            if f == Function::Tuple {
                Value::Tuple(items)
            } else {
                Value::List(items)
            }
        }
    })
}

fn apply_filter(name: &str, value: Value, scope: &Scope) -> Result<Value, String> {
    let text = |v: &Value| to_str(v);
    Ok(match name {
        "trim" => Value::Str(text(&value)?.trim().to_string()),
        "h" | "x" => Value::Str(html_escape(&text(&value)?)),
        "u" => Value::Str(url_escape(&text(&value)?)),
        "str" => Value::Str(text(&value)?),
        other => match scope.lookup(other) {
            Lookup::Defined(Value::Function(f)) => call(f, value)?,
            _ => {
                return Err(format!(
                    "unsupported: the filter `{other}` (filters: n, trim, h, x, u, str, and the template's functions)"
                ))
            }
        },
    })
}

/// Python's truth value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(n) => *n != 0,
        Value::Str(s) => !s.is_empty(),
        Value::Tuple(items) | Value::List(items) => !items.is_empty(),
        Value::DateTime(_) | Value::Function(_) | Value::Opaque(_) => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::None => "None",
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::Str(_) => "a string",
        Value::Tuple(_) => "a tuple",
        Value::List(_) => "a list",
        Value::DateTime(_) => "a datetime",
        Value::Function(_) => "a function",
        Value::Opaque(name) => name,
    }
}

/// Python's `str()`.
fn to_str(value: &Value) -> Result<String, String> {
    match value {
        Value::Str(s) => Ok(s.clone()),
        Value::DateTime(d) => Ok(d.to_string()),
        other => repr(other),
    }
}

/// Python's `repr()`.
fn repr(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::None => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Int(n) => n.to_string(),
        Value::Str(s) => py_repr(s),
        Value::DateTime(d) => d.python_repr(),
        Value::Tuple(items) => {
            let inner = items.iter().map(repr).collect::<Result<Vec<_>, _>>()?;
            if inner.len() == 1 {
                format!("({},)", inner[0])
            } else {
                format!("({})", inner.join(", "))
            }
        }
        Value::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(repr)
                .collect::<Result<Vec<_>, _>>()?
                .join(", ")
        ),
        Value::Function(f) => {
            return Err(format!(
                "unsupported: writing the function `{}` itself",
                function_name(*f)
            ))
        }
        Value::Opaque(name) => {
            return Err(format!(
                "unsupported: writing `{name}` (migrate cannot look into Alembic's objects)"
            ))
        }
    })
}

/// Mako's `h` and `x` filters (markupsafe's escaping).
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Mako's `u` filter (`urllib.parse.quote_plus`).
fn url_escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
