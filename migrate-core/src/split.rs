//! Splitting a block of SQL text into statements, per dialect.
//!
//! One pass over the bytes, linear in the length of the text: quotes, quoted identifiers,
//! comments and (per dialect) dollar quoting, `E'...'` strings, `BEGIN ... END` bodies of
//! triggers and procedures and the mysql client's `DELIMITER` lines are recognised, so a `;`
//! inside any of them does not end a statement.

/// The lexical rules that decide where one statement ends, per dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SplitRules {
    /// Backslash escapes inside '...' and "..." strings (MySQL).
    pub backslash_escapes: bool,
    /// `#` starts a comment to end of line (MySQL); also enables `DELIMITER` lines.
    pub hash_comments: bool,
    /// `/* */` comments nest (PostgreSQL).
    pub nested_block_comments: bool,
    /// `$$ ... $$` and `$tag$ ... $tag$` quoting, and `E'...'` strings (PostgreSQL).
    pub dollar_quotes: bool,
    /// Backtick-quoted identifiers (MySQL, also accepted by SQLite).
    pub backticks: bool,
    /// `[...]` quoted identifiers (SQLite).
    pub brackets: bool,
    /// `BEGIN ... END;` bodies of triggers and procedures keep their inner `;` (SQLite, MySQL).
    pub begin_end_blocks: bool,
}

impl SplitRules {
    /// The lexical rules of SQLite's SQL: `[...]` and backtick identifiers, trigger bodies.
    pub fn sqlite() -> SplitRules {
        SplitRules {
            brackets: true,
            backticks: true,
            begin_end_blocks: true,
            ..SplitRules::default()
        }
    }

    /// The lexical rules of PostgreSQL's SQL: nested comments, dollar quotes, `E'...'`.
    pub fn postgresql() -> SplitRules {
        SplitRules {
            nested_block_comments: true,
            dollar_quotes: true,
            ..SplitRules::default()
        }
    }

    /// The lexical rules of MySQL's SQL: backslash escapes, `#` comments, backticks,
    /// `BEGIN ... END` routine bodies and `DELIMITER` lines.
    pub fn mysql() -> SplitRules {
        SplitRules {
            backslash_escapes: true,
            hash_comments: true,
            backticks: true,
            begin_end_blocks: true,
            ..SplitRules::default()
        }
    }
}

/// One statement cut out of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement text from its first character of code (not whitespace, not a comment) to
    /// its end, without the terminating `;`.
    pub text: String,
    /// 0-based line offset of the statement's first character (comments before it skipped)
    /// within the block.
    pub line_offset: usize,
}

/// Split `sql` into statements under `rules`. Empty statements (only whitespace, comments
/// or `;`) are dropped; a statement's text starts at its first character of code (comments
/// before it are dropped, comments inside it kept), and `line_offset` is that character's line.
///
/// ```
/// use migrate_core::{split, SplitRules};
/// let pg = SplitRules { nested_block_comments: true, dollar_quotes: true, ..SplitRules::default() };
/// let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- done;\nSELECT ';'";
/// let parts: Vec<String> = split(sql, pg).into_iter().map(|s| s.text).collect();
/// assert_eq!(parts, ["CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "SELECT ';'"]);
/// ```
pub fn split(sql: &str, rules: SplitRules) -> Vec<Statement> {
    Splitter::new(sql, rules).run()
}

struct Splitter<'a> {
    src: &'a str,
    b: &'a [u8],
    rules: SplitRules,
    out: Vec<Statement>,
    /// Newlines counted so far: (byte position, newlines before it). Statements are pushed in
    /// order, so counting resumes where it stopped and the whole split stays linear.
    lines_seen: (usize, usize),
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Keywords that open a block closed by `END` inside a routine body.
fn block_opener(word: &[u8]) -> bool {
    const OPENERS: [&[u8]; 6] = [b"BEGIN", b"CASE", b"IF", b"LOOP", b"WHILE", b"REPEAT"];
    OPENERS.iter().any(|o| o.eq_ignore_ascii_case(word))
}

impl<'a> Splitter<'a> {
    fn new(src: &'a str, rules: SplitRules) -> Self {
        Splitter {
            src,
            b: src.as_bytes(),
            rules,
            out: Vec::new(),
            lines_seen: (0, 0),
        }
    }

    /// Skip a quoted run starting at `i` (the opening quote); returns the index after it.
    fn skip_quoted(&self, mut i: usize, close: u8, backslash: bool) -> usize {
        let b = self.b;
        i += 1;
        while i < b.len() {
            let c = b[i];
            if backslash && c == b'\\' {
                i += 2;
                continue;
            }
            if c == close {
                if i + 1 < b.len() && b[i + 1] == close && close != b']' {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i += 1;
        }
        b.len()
    }

    fn skip_line(&self, mut i: usize) -> usize {
        while i < self.b.len() && self.b[i] != b'\n' {
            i += 1;
        }
        i
    }

    fn skip_block_comment(&self, mut i: usize) -> usize {
        let b = self.b;
        let mut depth = 0usize;
        while i < b.len() {
            if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'*' {
                if depth == 0 || self.rules.nested_block_comments {
                    depth += 1;
                }
                i += 2;
            } else if b[i] == b'*' && i + 1 < b.len() && b[i + 1] == b'/' {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            } else {
                i += 1;
            }
        }
        b.len()
    }

    /// A dollar-quote tag at `i` (`$$` or `$tag$`): its length, if it is one.
    fn dollar_tag(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let mut j = i + 1;
        if j < b.len() && b[j].is_ascii_digit() {
            return None;
        }
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
            j += 1;
        }
        if j < b.len() && b[j] == b'$' {
            Some(j + 1 - i)
        } else {
            None
        }
    }

    fn skip_dollar(&self, i: usize, tag_len: usize) -> usize {
        let tag = &self.b[i..i + tag_len];
        let body = &self.src[i + tag_len..];
        match body.find(std::str::from_utf8(tag).unwrap_or("$$")) {
            Some(at) => i + tag_len + at + tag_len,
            None => self.b.len(),
        }
    }

    /// Is the statement that starts at `start` one whose body is a `BEGIN ... END` block
    /// (a trigger, procedure, function or event)?
    fn is_routine(&self, words: &[&[u8]]) -> bool {
        if words
            .first()
            .is_none_or(|w| !w.eq_ignore_ascii_case(b"CREATE"))
        {
            return false;
        }
        words.iter().skip(1).take(6).any(|w| {
            [b"TRIGGER" as &[u8], b"PROCEDURE", b"FUNCTION", b"EVENT"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(w))
        })
    }

    fn push(&mut self, start: usize, end: usize) {
        let Some(first) = self.first_code(start, end) else {
            return;
        };
        // The statement starts at its first character of code: comments before it belong to
        // no statement (and would hide the SQL in an error message).
        let text = self.src[first..end].trim_end();
        let (from, count) = self.lines_seen;
        let line_offset = count + self.b[from..first].iter().filter(|&&c| c == b'\n').count();
        self.lines_seen = (first, line_offset);
        self.out.push(Statement {
            text: text.to_string(),
            line_offset,
        });
    }

    /// The first byte of `start..end` that is neither whitespace nor comment.
    fn first_code(&self, mut i: usize, end: usize) -> Option<usize> {
        let b = self.b;
        while i < end {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
            } else if (c == b'-' && i + 1 < end && b[i + 1] == b'-')
                || (c == b'#' && self.rules.hash_comments)
            {
                i = self.skip_line(i);
            } else if c == b'/' && i + 1 < end && b[i + 1] == b'*' {
                // MySQL runs `/*! ... */` (version-conditional SQL): code, not a comment.
                if self.rules.hash_comments && i + 2 < end && b[i + 2] == b'!' {
                    return Some(i);
                }
                i = self.skip_block_comment(i);
            } else {
                return Some(i);
            }
        }
        None
    }

    fn run(mut self) -> Vec<Statement> {
        let b = self.b;
        let n = b.len();
        let mut start = 0usize;
        let mut i = 0usize;
        let mut delimiter: Vec<u8> = b";".to_vec();
        // Words of the current statement seen at depth 0 (only the first few matter).
        let mut words: Vec<&[u8]> = Vec::new();
        let mut depth = 0usize;
        let mut at_line_start = true;
        while i < n {
            let c = b[i];
            // The mysql client's DELIMITER command, on a line of its own.
            if at_line_start && self.rules.hash_comments {
                let mut j = i;
                while j < n && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                }
                if n - j > 10
                    && b[j..j + 9].eq_ignore_ascii_case(b"DELIMITER")
                    && (b[j + 9] == b' ' || b[j + 9] == b'\t')
                    && self.first_code(start, j).is_none()
                {
                    let line_end = self.skip_line(j);
                    let value = self.src[j + 9..line_end].trim();
                    if !value.is_empty() {
                        delimiter = value.as_bytes().to_vec();
                    }
                    i = line_end;
                    start = i;
                    words.clear();
                    depth = 0;
                    continue;
                }
            }
            at_line_start = false;
            match c {
                b'\n' => {
                    at_line_start = true;
                    i += 1;
                    continue;
                }
                b'\'' => {
                    let escaped = self.rules.backslash_escapes
                        || (self.rules.dollar_quotes
                            && i > 0
                            && (b[i - 1] == b'E' || b[i - 1] == b'e')
                            && (i < 2 || !is_ident_byte(b[i - 2])));
                    i = self.skip_quoted(i, b'\'', escaped);
                    continue;
                }
                b'"' => {
                    i = self.skip_quoted(i, b'"', self.rules.backslash_escapes);
                    continue;
                }
                b'`' if self.rules.backticks => {
                    i = self.skip_quoted(i, b'`', false);
                    continue;
                }
                b'[' if self.rules.brackets => {
                    i = self.skip_quoted(i, b']', false);
                    continue;
                }
                b'-' if i + 1 < n && b[i + 1] == b'-' => {
                    i = self.skip_line(i);
                    continue;
                }
                b'#' if self.rules.hash_comments => {
                    i = self.skip_line(i);
                    continue;
                }
                b'/' if i + 1 < n && b[i + 1] == b'*' => {
                    i = self.skip_block_comment(i);
                    continue;
                }
                b'$' if self.rules.dollar_quotes && (i == 0 || !is_ident_byte(b[i - 1])) => {
                    if let Some(len) = self.dollar_tag(i) {
                        i = self.skip_dollar(i, len);
                        continue;
                    }
                    i += 1;
                    continue;
                }
                _ => {}
            }
            if b[i..].starts_with(&delimiter) && depth == 0 {
                self.push(start, i);
                i += delimiter.len();
                start = i;
                words.clear();
                continue;
            }
            if is_ident_byte(c) && (i == 0 || !is_ident_byte(b[i - 1])) {
                let mut j = i;
                while j < n && is_ident_byte(b[j]) {
                    j += 1;
                }
                let word = &b[i..j];
                if self.rules.begin_end_blocks {
                    if depth == 0 && words.len() < 8 {
                        words.push(word);
                    }
                    if self.is_routine(&words) || depth > 0 {
                        if word.eq_ignore_ascii_case(b"END") {
                            // `END IF`, `END LOOP`, ... close the block they name; a bare END
                            // closes BEGIN or CASE.
                            depth = depth.saturating_sub(1);
                            let mut k = j;
                            while k < n && (b[k] == b' ' || b[k] == b'\t') {
                                k += 1;
                            }
                            let mut e = k;
                            while e < n && is_ident_byte(b[e]) {
                                e += 1;
                            }
                            if e > k
                                && block_opener(&b[k..e])
                                && !b[k..e].eq_ignore_ascii_case(b"BEGIN")
                            {
                                i = e;
                                continue;
                            }
                        } else if block_opener(word) && self.opens_block(word, i, j) {
                            depth += 1;
                        }
                    }
                }
                i = j;
                continue;
            }
            i += 1;
        }
        self.push(start, n);
        self.out
    }

    /// `IF` opens a block only where a statement starts inside a routine (not `IF(...)` the
    /// function, not `DROP TABLE IF EXISTS`); `REPEAT` not when it is the string function;
    /// `BEGIN`, `CASE`, `LOOP` and `WHILE` always do.
    fn opens_block(&self, word: &[u8], word_start: usize, after: usize) -> bool {
        let next_is_paren = self.src[after..].trim_start().starts_with('(');
        if word.eq_ignore_ascii_case(b"REPEAT") {
            return !next_is_paren;
        }
        if !word.eq_ignore_ascii_case(b"IF") {
            return true;
        }
        let before = self.src[..word_start].trim_end();
        if before.ends_with(';') || before.ends_with(':') {
            return true;
        }
        let prev: String = before
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        matches!(
            prev.as_str(),
            "BEGIN" | "THEN" | "ELSE" | "DO" | "LOOP" | "REPEAT"
        )
    }
}
