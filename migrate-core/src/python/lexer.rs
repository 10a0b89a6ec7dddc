//! A tokenizer for the part of Python that revision files are written in.
//!
//! It produces the token stream CPython 3.11's tokenizer would (names, numbers, whole string
//! literals including f-strings, operators, NEWLINE, INDENT, DEDENT), which is enough to skip any
//! statement and to read the ones `migrate` folds. Tokens hold byte offsets into the source, so
//! tokenizing allocates only the token vector.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An identifier or keyword.
    Name,
    /// A numeric literal.
    Number,
    /// A string literal with its prefix and quotes (`rb'..'`, `f"""..."""`).
    Str,
    /// An operator or delimiter.
    Op,
    /// The end of a logical line.
    Newline,
    /// The start of an indented block.
    Indent,
    /// The end of an indented block.
    Dedent,
    /// The end of the file.
    End,
}

/// One token: its kind and where it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    /// Byte offset of the first byte.
    pub(crate) start: u32,
    /// Byte offset after the last byte.
    pub(crate) end: u32,
    /// 1-based line of the first byte.
    pub(crate) line: u32,
    /// Byte offset where that line starts.
    pub(crate) line_start: u32,
}

impl Token {
    /// The source text of the token.
    #[inline(always)]
    pub(crate) fn text<'s>(&self, src: &'s str) -> &'s str {
        &src[self.start as usize..self.end as usize]
    }

    /// True for the operator or keyword `s`.
    #[inline(always)]
    pub(crate) fn is(&self, src: &str, s: &str) -> bool {
        let (start, end) = (self.start as usize, self.end as usize);
        if !matches!(self.kind, Kind::Op | Kind::Name) || end - start != s.len() {
            return false;
        }
        let b = src.as_bytes();
        // Most calls ask for one operator byte (`,`, `(`, `)`), a length known where `is`
        // is inlined: then one byte decides, without a slice comparison.
        match s.len() {
            1 => b.get(start) == s.as_bytes().first(),
            _ => b.get(start..end) == Some(s.as_bytes()),
        }
    }

    /// 1-based column (in characters) of the first byte.
    pub(crate) fn column(&self, src: &str) -> usize {
        column_of(src, self.line_start as usize, self.start as usize)
    }
}

/// 1-based character column of byte `offset` on the line starting at `line_start`.
pub(crate) fn column_of(src: &str, line_start: usize, offset: usize) -> usize {
    src.get(line_start..offset)
        .map(|s| s.chars().count())
        .unwrap_or(offset - line_start)
        + 1
}

/// A syntax error found while tokenizing.
#[derive(Debug)]
pub(crate) struct LexError {
    pub(crate) line: usize,
    pub(crate) line_start: usize,
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// Operators of three, then two characters, longest first.
const OPS3: &[&[u8; 3]] = &[b"**=", b"//=", b">>=", b"<<=", b"..."];
const OPS2: &[&[u8; 2]] = &[
    b"->", b":=", b"==", b"!=", b"<=", b">=", b"**", b"//", b"<<", b">>", b"+=", b"-=", b"*=",
    b"/=", b"%=", b"&=", b"|=", b"^=", b"@=",
];

/// True when `name` (the letters before a quote) is a valid string prefix.
pub(crate) fn is_string_prefix(name: &[u8]) -> bool {
    match name {
        [a] => matches!(a.to_ascii_lowercase(), b'r' | b'u' | b'b' | b'f'),
        [a, b] => matches!(
            (a.to_ascii_lowercase(), b.to_ascii_lowercase()),
            (b'b', b'r') | (b'r', b'b') | (b'f', b'r') | (b'r', b'f')
        ),
        _ => false,
    }
}

struct Lexer<'s> {
    b: &'s [u8],
    i: usize,
    line: usize,
    line_start: usize,
    tokens: Vec<Token>,
    /// When asked for: each comment's line and byte range (after the `#`).
    comments: Option<Vec<(usize, usize, usize)>>,
}

impl<'s> Lexer<'s> {
    fn comment(&mut self, start: usize, end: usize) {
        if let Some(comments) = &mut self.comments {
            comments.push((self.line, start + 1, end));
        }
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize, line: usize, line_start: usize) {
        self.tokens.push(Token {
            kind,
            start: start as u32,
            end: end as u32,
            line: line as u32,
            line_start: line_start as u32,
        });
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> LexError {
        LexError {
            line: self.line,
            line_start: self.line_start,
            offset,
            message: message.into(),
        }
    }

    /// Consume a line break at `self.i` (`\n`, `\r\n` or `\r`), if any.
    fn newline(&mut self) -> bool {
        match self.b.get(self.i) {
            Some(b'\n') => self.i += 1,
            Some(b'\r') => {
                self.i += 1;
                if self.b.get(self.i) == Some(&b'\n') {
                    self.i += 1;
                }
            }
            _ => return false,
        }
        self.line += 1;
        self.line_start = self.i;
        true
    }

    /// Scan a string literal whose quote is at `self.i`; `start` is where its prefix began.
    fn string(&mut self, start: usize) -> Result<(), LexError> {
        let (line, line_start) = (self.line, self.line_start);
        let b = self.b;
        let q = b[self.i];
        let triple = b.get(self.i + 1) == Some(&q) && b.get(self.i + 2) == Some(&q);
        if triple {
            self.i += 3;
            loop {
                match b.get(self.i) {
                    None => {
                        let mut e = self.error(start, "unterminated triple-quoted string literal");
                        e.line = line;
                        e.line_start = line_start;
                        return Err(e);
                    }
                    Some(b'\\') => {
                        self.i += 1;
                        if !self.newline() && self.i < b.len() {
                            self.i += 1;
                        }
                    }
                    Some(&c)
                        if c == q
                            && b.get(self.i + 1) == Some(&q)
                            && b.get(self.i + 2) == Some(&q) =>
                    {
                        self.i += 3;
                        break;
                    }
                    Some(b'\n' | b'\r') => {
                        self.newline();
                    }
                    Some(_) => {
                        self.i += 1;
                        self.i += b[self.i..]
                            .iter()
                            .position(|&c| c == q || c == b'\\' || c == b'\n' || c == b'\r')
                            .unwrap_or(b.len() - self.i);
                    }
                }
            }
        } else {
            self.i += 1;
            loop {
                match b.get(self.i) {
                    None | Some(b'\n' | b'\r') => {
                        let detected = self.line;
                        let mut e = self.error(
                            start,
                            format!("unterminated string literal (detected at line {detected})"),
                        );
                        e.line = line;
                        e.line_start = line_start;
                        return Err(e);
                    }
                    Some(b'\\') => {
                        self.i += 1;
                        if !self.newline() && self.i < b.len() {
                            self.i += 1;
                        }
                    }
                    Some(&c) if c == q => {
                        self.i += 1;
                        break;
                    }
                    Some(_) => {
                        self.i += 1;
                        self.i += b[self.i..]
                            .iter()
                            .position(|&c| c == q || c == b'\\' || c == b'\n' || c == b'\r')
                            .unwrap_or(b.len() - self.i);
                    }
                }
            }
        }
        self.push(Kind::Str, start, self.i, line, line_start);
        Ok(())
    }
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

/// The bytes [`is_name_char`] accepts, as a table: names are most of a module's bytes.
static NAME_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        table[i] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        i += 1;
    }
    table
};

#[inline(always)]
fn is_name_char(c: u8) -> bool {
    NAME_CHARS[c as usize]
}

/// Tokenize a whole module.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, LexError> {
    let mut tokens = Vec::new();
    tokenize_into(src, &mut tokens).map(|()| tokens)
}

/// [`tokenize`] into `tokens` (cleared first), reusing its allocation.
pub(crate) fn tokenize_into(src: &str, tokens: &mut Vec<Token>) -> Result<(), LexError> {
    let mut buf = std::mem::take(tokens);
    buf.clear();
    let lexed = lex(src, None, buf);
    match lexed {
        Ok((toks, _)) => {
            *tokens = toks;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The comments of `src`: each one's 1-based line and its byte range after the `#`.
pub(crate) fn comments(src: &str) -> Result<Vec<(usize, usize, usize)>, LexError> {
    lex(src, Some(Vec::new()), Vec::new()).map(|(_, comments)| comments.unwrap_or_default())
}

type Lexed = (Vec<Token>, Option<Vec<(usize, usize, usize)>>);

fn lex(
    src: &str,
    comments: Option<Vec<(usize, usize, usize)>>,
    mut tokens: Vec<Token>,
) -> Result<Lexed, LexError> {
    let b = src.as_bytes();
    tokens.reserve(src.len() / 5 + 8);
    let mut lx = Lexer {
        b,
        i: 0,
        line: 1,
        line_start: 0,
        tokens,
        comments,
    };
    if b.starts_with("\u{feff}".as_bytes()) {
        lx.i = 3;
    }
    // Indentation stack: (width with tabs to multiples of 8, width with tabs as 1).
    let mut indents: Vec<(usize, usize)> = vec![(0, 0)];
    let mut brackets: Vec<(u8, usize, usize, usize)> = Vec::new();
    let mut at_line_start = true;
    loop {
        if at_line_start {
            at_line_start = false;
            let (mut col, mut alt) = (0usize, 0usize);
            let mut j = lx.i;
            while let Some(&c) = b.get(j) {
                match c {
                    b' ' => {
                        col += 1;
                        alt += 1;
                    }
                    b'\t' => {
                        col = (col / 8 + 1) * 8;
                        alt += 1;
                    }
                    b'\x0c' => {
                        col = 0;
                        alt = 0;
                    }
                    _ => break,
                }
                j += 1;
            }
            lx.i = j;
            // Backslash continuations right after the indentation join the next physical
            // lines (the indentation stays the first line's); if only whitespace follows,
            // the whole logical line is blank, as CPython treats it.
            while b.get(lx.i) == Some(&b'\\') && matches!(b.get(lx.i + 1), Some(b'\n' | b'\r')) {
                lx.i += 1;
                lx.newline();
                while matches!(b.get(lx.i), Some(b' ' | b'\t' | b'\x0c')) {
                    lx.i += 1;
                }
            }
            let j = lx.i;
            match b.get(j) {
                None => break,
                Some(b'#') => {
                    while !matches!(b.get(lx.i), None | Some(b'\n' | b'\r')) {
                        lx.i += 1;
                    }
                    lx.comment(j, lx.i);
                    lx.newline();
                    at_line_start = true;
                    continue;
                }
                Some(b'\n' | b'\r') => {
                    lx.newline();
                    at_line_start = true;
                    continue;
                }
                Some(_) => {}
            }
            let (top, top_alt) = indents[indents.len() - 1];
            let (line, ls) = (lx.line, lx.line_start);
            if col > top {
                if alt <= top_alt {
                    return Err(lx.error(j, "inconsistent use of tabs and spaces in indentation"));
                }
                indents.push((col, alt));
                lx.push(Kind::Indent, j, j, line, ls);
            } else {
                while col < indents[indents.len() - 1].0 {
                    indents.pop();
                    lx.push(Kind::Dedent, j, j, line, ls);
                }
                let (top, top_alt) = indents[indents.len() - 1];
                if col != top {
                    return Err(lx.error(j, "unindent does not match any outer indentation level"));
                }
                if alt != top_alt {
                    return Err(lx.error(j, "inconsistent use of tabs and spaces in indentation"));
                }
            }
        }
        let Some(&c) = b.get(lx.i) else { break };
        let start = lx.i;
        match c {
            b' ' | b'\t' | b'\x0c' => {
                lx.i += 1;
                while matches!(b.get(lx.i), Some(b' ' | b'\t' | b'\x0c')) {
                    lx.i += 1;
                }
            }
            b'#' => {
                lx.i += b[lx.i..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .unwrap_or(b.len() - lx.i);
                lx.comment(start, lx.i);
            }
            b'\n' | b'\r' => {
                if brackets.is_empty() {
                    lx.push(Kind::Newline, start, start, lx.line, lx.line_start);
                    at_line_start = true;
                }
                lx.newline();
            }
            b'\\' => {
                lx.i += 1;
                if !lx.newline() {
                    if lx.i >= b.len() {
                        return Err(lx.error(start, "unexpected EOF while parsing"));
                    }
                    return Err(lx.error(
                        start,
                        "unexpected character after line continuation character",
                    ));
                }
            }
            b'"' | b'\'' => lx.string(start)?,
            c if is_name_start(c) => {
                let mut j = lx.i + 1;
                while j < b.len() && is_name_char(b[j]) {
                    j += 1;
                }
                if j - start <= 2
                    && matches!(b.get(j), Some(b'"' | b'\''))
                    && is_string_prefix(&b[start..j])
                {
                    lx.i = j;
                    lx.string(start)?;
                } else {
                    lx.i = j;
                    lx.push(Kind::Name, start, j, lx.line, lx.line_start);
                }
            }
            c if c.is_ascii_digit()
                || (c == b'.' && b.get(lx.i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut j = lx.i + 1;
                while j < b.len() {
                    let d = b[j];
                    let exponent_sign = (d == b'+' || d == b'-')
                        && matches!(b[j - 1], b'e' | b'E')
                        && !(b[start] == b'0' && matches!(b.get(start + 1), Some(b'x' | b'X')));
                    if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' || exponent_sign {
                        j += 1;
                    } else {
                        break;
                    }
                }
                lx.i = j;
                lx.push(Kind::Number, start, j, lx.line, lx.line_start);
            }
            b'(' | b'[' | b'{' => {
                brackets.push((c, start, lx.line, lx.line_start));
                lx.i += 1;
                lx.push(Kind::Op, start, lx.i, lx.line, lx.line_start);
            }
            b')' | b']' | b'}' => {
                let open = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                match brackets.pop() {
                    Some((o, ..)) if o == open => {}
                    Some((o, ..)) => {
                        return Err(lx.error(
                            start,
                            format!(
                                "closing parenthesis '{}' does not match opening parenthesis '{}'",
                                c as char, o as char
                            ),
                        ))
                    }
                    None => {
                        return Err(lx.error(start, format!("unmatched '{}'", c as char)));
                    }
                }
                lx.i += 1;
                lx.push(Kind::Op, start, lx.i, lx.line, lx.line_start);
            }
            _ => {
                let rest = &b[lx.i..];
                let second = rest.get(1).copied().unwrap_or(0);
                // `matches!` rather than a slice search: this runs for every operator token.
                let single = matches!(
                    c,
                    b'+' | b'-'
                        | b'*'
                        | b'/'
                        | b'%'
                        | b'@'
                        | b'&'
                        | b'|'
                        | b'^'
                        | b'~'
                        | b'<'
                        | b'>'
                        | b','
                        | b':'
                        | b'.'
                        | b';'
                        | b'='
                        | b'!'
                );
                let len = if !matches!(second, b'=' | b'>' | b'*' | b'/' | b'<' | b'.') {
                    usize::from(single)
                } else if OPS3.iter().any(|o| rest.starts_with(&o[..])) {
                    3
                } else if OPS2.iter().any(|o| rest.starts_with(&o[..])) {
                    2
                } else {
                    usize::from(single)
                };
                if len == 0 {
                    let ch = src[lx.i..].chars().next().unwrap_or('?');
                    return Err(lx.error(start, format!("invalid character '{ch}'")));
                }
                lx.i += len;
                lx.push(Kind::Op, start, lx.i, lx.line, lx.line_start);
            }
        }
    }
    if let Some(&(o, offset, line, line_start)) = brackets.first() {
        return Err(LexError {
            line,
            line_start,
            offset,
            message: format!("'{}' was never closed", o as char),
        });
    }
    let end = b.len();
    if lx
        .tokens
        .last()
        .is_some_and(|t| !matches!(t.kind, Kind::Newline | Kind::Dedent | Kind::Indent))
    {
        lx.push(Kind::Newline, end, end, lx.line, lx.line_start);
    }
    for _ in 1..indents.len() {
        lx.push(Kind::Dedent, end, end, lx.line, lx.line_start);
    }
    lx.push(Kind::End, end, end, lx.line, lx.line_start);
    Ok((lx.tokens, lx.comments))
}
