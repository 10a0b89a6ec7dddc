//! Reading Alembic `*.py` revision files without running Python.
//!
//! A file goes through three steps: `lexer` turns it into tokens (as CPython 3.11's tokenizer
//! would), `module` reads the module level (docstring, the four header variables, string
//! constants, imports, where `upgrade`/`downgrade` are) and skips everything else, and `fold`
//! computes the SQL of `upgrade()` / `downgrade()` when their bodies are straight-line
//! `op.execute(...)` calls over constant strings. Anything else in a body makes that direction
//! [`Migration::Unrunnable`]; only a genuine syntax error or a non-literal header value is an
//! error.
//!
//! What a body may hold to be folded: docstrings, comments, `pass`, `...`; `NAME = <expression>`
//! (also annotated, chained and `+=` on strings); `op.execute(X)`, `op.get_bind().execute(X)`
//! and `B.execute(X)` with `B = op.get_bind()`; `with op.get_context().autocommit_block():`
//! blocks and `for TARGET in <constant iterable>:` loops of these (the target a name or nested
//! tuples of names). Expressions are built from literals of every form (strings, ints in any
//! base, floats, `True`/`False`/`None`, tuples, lists, dicts), module-level and local
//! constants, f-strings (any such expression in a field, `!s`/`!r`/`!a`), `%` (`%s`, `%r`,
//! `%a`, `%d`, `%i`, `%%`, `%(key)s`), `.format(...)`, `+`, unary `-`, subscripts by index or
//! key, `str.join`, `.strip()` (and `lstrip`/`rstrip`), `dict.items()`/`.keys()`/`.values()`,
//! `str()`, `repr()`, `len()`, `list()`, `tuple()`, `sorted()`, `enumerate()`, `zip()`,
//! comprehensions without conditions, `json.dumps` (with `ensure_ascii`, `sort_keys`, `indent`,
//! `separators`), `textwrap.dedent`, optionally wrapped in SQLAlchemy's `text()`. `X` must be a
//! string. Each value is computed as CPython computes it (`repr` quoting and escapes, float
//! `repr`, dict key equality across `1`/`True`/`1.0`); whatever CPython would raise on (a
//! `KeyError`, an unsortable list, an iterator read twice) is refused like any unknown form.
//!
//! The Alembic operations of [`crate::ops`] (`op.create_table(...)`, `op.add_column(...)`, ...)
//! are statements too: `sa` reads the SQLAlchemy constructs in their arguments (`sa.Column`,
//! types, constraints, `sa.func.now()`) by their Python signatures, `ops` binds each call to
//! Alembic's signature, and the block holds the resulting [`crate::ops::Operation`].

mod fold;
mod lexer;
mod literal;
mod module;
mod ops;
mod repr;
mod sa;
mod value;

use std::path::Path;

use crate::error::{Error, Result};
use crate::revision::{Contents, Migration, Revision, ScriptFormat, Unrunnable};
use fold::{Folder, Stop, Syntax};
use lexer::column_of;
use module::{FunctionDef, HeaderSlot, HeaderValue, Module, ScanError, HEADER_VARS};

/// Read an Alembic revision file: its header (`revision`, `down_revision`, `branch_labels`,
/// `depends_on`), the docstring, and the SQL of `upgrade()` / `downgrade()` folded exactly as
/// Python would compute it.
///
/// `Revision::message` is what `alembic history` prints (the stripped docstring up to its first
/// blank line) and `Revision::doc` the whole stripped docstring (Alembic's `Script.longdoc`).
pub fn parse_python_revision(path: &Path, text: &str) -> Result<Revision> {
    parse(path, text, Contents::Full)
}

/// [`parse_python_revision`], folding only the directions `contents` asks for (none for
/// [`Contents::Header`], one for [`Contents::Upgrade`] / [`Contents::Downgrade`]); the whole
/// file is still tokenized: a header value is only known after the last assignment to it.
pub(crate) fn parse(path: &Path, text: &str, contents: Contents) -> Result<Revision> {
    thread_local! {
        /// The token buffer of the last file this thread read: reused, so that reading a
        /// folder of files does not allocate (and free) one large buffer per file.
        static TOKENS: std::cell::Cell<Vec<lexer::Token>> = const { std::cell::Cell::new(Vec::new()) };
    }
    /// Beyond this many tokens (about 1.3 MB) a buffer is not kept for the next file.
    const KEEP: usize = 1 << 16;
    let mut toks = TOKENS.take();
    let parsed = parse_with(path, text, contents, &mut toks);
    if toks.capacity() <= KEEP {
        TOKENS.set(toks);
    }
    parsed
}

/// [`parse`], tokenizing into `toks`.
fn parse_with(
    path: &Path,
    text: &str,
    contents: Contents,
    toks: &mut Vec<lexer::Token>,
) -> Result<Revision> {
    let file = File { path, src: text };
    lexer::tokenize_into(text, toks).map_err(|e| {
        file.error(
            e.line,
            e.line_start,
            e.offset,
            format!("invalid Python: {}", e.message),
        )
    })?;
    let toks: &[lexer::Token] = toks;
    let module = module::scan(text, toks).map_err(|e| file.scan_error(toks, e))?;

    let slot = |n: usize| &module.header[n];
    let id = match slot(0) {
        HeaderSlot::Literal {
            value: HeaderValue::Str(s),
            ..
        } => s.clone(),
        HeaderSlot::Literal { at, .. } => {
            return Err(file.at_token(&toks[*at], "`revision` must be a string".into()));
        }
        HeaderSlot::Conditional { at } => return Err(file.conditional(&toks[*at], "revision")),
        // Alembic's legacy rule: a file named `<hex>.py` without `revision` takes its id from
        // the name.
        HeaderSlot::Unset if legacy_id(path).is_some() => legacy_id(path).unwrap_or_default(),
        HeaderSlot::Unset => {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "not a revision file: no `revision = ...` found; an Alembic revision \
                          script assigns `revision`, `down_revision`, `branch_labels` and \
                          `depends_on` at module level"
                    .into(),
                snippet: None,
            })
        }
    };
    let mut lists: [Vec<String>; 3] = Default::default();
    // Only `branch_labels` may hold names imported from elsewhere (the reader allows them there
    // alone): they land here.
    let mut computed_branch_labels = Vec::new();
    for (n, list) in lists.iter_mut().enumerate() {
        *list = match slot(n + 1) {
            HeaderSlot::Unset => Vec::new(),
            HeaderSlot::Conditional { at } => {
                return Err(file.conditional(&toks[*at], HEADER_VARS[n + 1]))
            }
            HeaderSlot::Literal { value, .. } => match value {
                HeaderValue::None => Vec::new(),
                HeaderValue::Str(s) => vec![s.clone()],
                HeaderValue::Seq(items) => items.clone(),
                HeaderValue::Computed(name) => {
                    computed_branch_labels.push(name.clone());
                    Vec::new()
                }
                HeaderValue::Labels { literal, computed } => {
                    computed_branch_labels.extend(computed.iter().cloned());
                    literal.clone()
                }
            },
        };
    }
    let [down_revisions, branch_labels, depends_on] = lists;

    let doc = module
        .docstring
        .as_deref()
        .map(|d| repr::strip(d, true, true))
        .unwrap_or("");
    let message = doc.split("\n\n").next().unwrap_or("").to_string();
    let (upgrade, downgrade) = match contents {
        Contents::Full => (
            file.function(toks, &module, module.upgrade, "upgrade")?,
            file.function(toks, &module, module.downgrade, "downgrade")?,
        ),
        Contents::Upgrade => (
            file.function(toks, &module, module.upgrade, "upgrade")?,
            Migration::NotRead,
        ),
        Contents::Downgrade => (
            Migration::NotRead,
            file.function(toks, &module, module.downgrade, "downgrade")?,
        ),
        Contents::Header => (Migration::NotRead, Migration::NotRead),
    };

    Ok(Revision {
        id,
        down_revisions,
        branch_labels,
        computed_branch_labels,
        depends_on,
        message,
        doc: doc.to_string(),
        path: path.to_path_buf(),
        format: ScriptFormat::Python,
        upgrade,
        downgrade,
    })
}

/// The comments of a Python file (`# ...`, not a `#` inside a string), as (1-based line,
/// text after the `#`); empty when the file does not tokenize.
pub fn comment_lines(text: &str) -> Vec<(usize, &str)> {
    lexer::comments(text)
        .map(|found| {
            found
                .into_iter()
                .map(|(line, start, end)| (line, &text[start..end]))
                .collect()
        })
        .unwrap_or_default()
}

/// The revision id Alembic takes from a file named `<lowercase hex>.py` that declares none.
fn legacy_id(path: &Path) -> Option<String> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".py")?;
    (!stem.is_empty() && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| stem.to_string())
}

/// The file being read, for error messages.
struct File<'p> {
    path: &'p Path,
    src: &'p str,
}

impl File<'_> {
    fn error(&self, line: usize, line_start: usize, offset: usize, message: String) -> Error {
        let line_text = self.src[line_start.min(self.src.len())..]
            .split(['\n', '\r'])
            .next()
            .unwrap_or("")
            .to_string();
        Error::Parse {
            path: self.path.to_path_buf(),
            line,
            column: column_of(self.src, line_start, offset.max(line_start)),
            message,
            snippet: Some(line_text),
        }
    }

    fn at_token(&self, t: &lexer::Token, message: String) -> Error {
        self.error(
            t.line as usize,
            t.line_start as usize,
            t.start as usize,
            message,
        )
    }

    fn conditional(&self, t: &lexer::Token, var: &str) -> Error {
        self.at_token(
            t,
            format!(
                "`{var}` is bound inside a block or by an import; it must be assigned a literal at \
                 module level (`{var} = \"...\"`)"
            ),
        )
    }

    fn syntax(&self, s: Syntax) -> Error {
        self.error(
            s.line,
            s.line_start,
            s.offset,
            format!("invalid Python: {}", s.message),
        )
    }

    fn scan_error(&self, toks: &[lexer::Token], e: ScanError) -> Error {
        match e {
            ScanError::Syntax(s) => self.syntax(s),
            ScanError::Header { at, var, problem } => {
                self.at_token(&toks[at], format!("`{var}` {problem}"))
            }
        }
    }

    /// Fold one of `upgrade` / `downgrade`.
    fn function(
        &self,
        toks: &[lexer::Token],
        module: &Module<'_>,
        def: Option<FunctionDef>,
        name: &str,
    ) -> Result<Migration> {
        let Some(def) = def else {
            return Ok(Migration::Missing);
        };
        if let Some(at) = def.unusual {
            let t = &toks[at];
            return Ok(Migration::Unrunnable(Unrunnable {
                line: t.line as usize,
                column: t.column(self.src),
                construct: format!("a decorated or async {name}() function"),
            }));
        }
        if let Some(at) = def.params {
            let t = &toks[at];
            return Ok(Migration::Unrunnable(Unrunnable {
                line: t.line as usize,
                column: t.column(self.src),
                construct: format!("{name}() with parameters"),
            }));
        }
        match Folder::new(self.src, toks, &module.names).function(def.body, def.end) {
            Ok(m) => Ok(m),
            Err(Stop::Unrunnable(u)) => Ok(Migration::Unrunnable(u)),
            Err(Stop::Syntax(s)) => Err(self.syntax(s)),
        }
    }
}

#[cfg(test)]
mod tests;
