//! Value forms beyond strings (numbers, booleans, `None`, tuples, lists, dicts and their views,
//! `enumerate`, `zip`, comprehensions, `json.dumps`, `str()`/`repr()`), folded exactly as
//! CPython 3.11 computes them.
//!
//! Every case is a revision module run twice: read by `migrate`, and executed by `python3` with
//! stub `alembic`/`sqlalchemy` modules that record what `upgrade()` passes to `execute`. Where
//! CPython computes a value, `migrate` must compute the same bytes (or refuse the body, which is
//! allowed only for the forms listed as refused); where CPython raises, `migrate` must refuse.

mod python_common;

use python_common::{cpython_runs, folded, Rng};

/// Lines before every generated body.
const PRELUDE: &str = r#"from alembic import op
import json
import sqlalchemy as sa
from json import dumps
revision = "v1"
down_revision = None
N = 1
NEG = -42
BIG = 12345678901234567890
F = 1.5
TINY = 1e-7
HUGE = 1e22
T = True
NO = None
S = "it's"
U = 'é😀\n\t"\x7f\x1f'
L = [1, "a", None, True, 2.5]
TU = ("x", 1)
ONE = (1,)
D = {"k": "v", "n": 1, "f": 0.1, "b": False, "z": None, "l": [1, 2], "d": {"x": "y"}}
ND = {1: "one", 2.5: "two", True: "t", None: "none", ("a", 1): "tuple", -0.0: "zero", 0: "int zero"}
E = {}
checkin_app_type = 1
ROLES = {"admin": {"can": ["read", "write"], "level": 10}, "viewer": {"can": ["read"], "level": 1.5}}
"#;

/// Build the module whose `upgrade()` body is `body` (lines without indentation).
fn module(body: &str) -> String {
    let mut src = String::from(PRELUDE);
    src.push_str("def upgrade():\n");
    for line in body.lines() {
        src.push_str("    ");
        src.push_str(line);
        src.push('\n');
    }
    src
}

/// Check each body against CPython. `may_refuse` lists bodies `migrate` is allowed to refuse
/// although CPython runs them (forms outside the model).
fn check(bodies: &[String], may_refuse: &[&str]) {
    let sources: Vec<String> = bodies.iter().map(|b| module(b)).collect();
    let python = cpython_runs(&sources);
    let mut failures = Vec::new();
    for ((body, src), expected) in bodies.iter().zip(&sources).zip(python) {
        let ours = folded(src);
        match (&ours, &expected) {
            (Some(a), Some(b)) if a == b => {}
            (None, None) => {}
            (None, Some(_)) if may_refuse.contains(&body.as_str()) => {}
            _ => failures.push(format!(
                "body:\n{body}\nmigrate: {ours:?}\nCPython: {expected:?}\n"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        bodies.len(),
        failures.join("\n")
    );
}

/// Expressions `migrate` folds; each is executed as `op.execute(EXPR)`.
const FORMS: &[&str] = &[
    "f'{N} {NEG} {BIG} {F} {TINY} {HUGE} {T} {NO} {L} {TU} {ONE} {D} {ND} {E}'",
    "f'{N!r}{F!s}{U!a}{L!a}{D!r}{T!a}'",
    "f'{N + F}{-N}{+F}{T + T}{BIG + BIG}{F + F}{-TINY}{N + 0.1}'",
    "f'{D[\"k\"]}{TU[0]}{L[-1]}{L[True]}{ND[1]}{ND[-0.0]}{D[\"l\"][1]}{ND[(\"a\", 1)]}'",
    "f'{1, 2}{(N, F)}{[T, NO]}{ {\"a\": N} }'",
    "f'{len(L)}{len(D)}{len(U)}{len(TU)}{len(D.items())}'",
    "'%s %r %d %i %u' % (N, F, T, 3.99, -2.5)",
    "'%d|%d|%d' % (BIG, 1e20, -0.0)",
    "'%(n)s %(f)r %(b)s %(z)s %(n)d' % D",
    "'%s' % (L,) + '%s' % D + '%r' % (ND,) + '%s' % N + '%s' % None",
    "'{} {!r} {n}'.format(F, U, n=N) + '{0} {1!r} {n} {0}'.format(F, U, n=N)",
    "'{}{}{}'.format(T, NO, HUGE)",
    "str(N) + str(F) + repr(U) + str(L) + repr(D) + str(None) + str() + str(True) + repr(S)",
    "str(D.items()) + str(D.keys()) + repr(D.values()) + str(E.items()) + str(ND.keys())",
    "', '.join(D) + ', '.join(D.keys()) + '|'.join(ROLES)",
    "', '.join(str(v) for v in D.values())",
    "', '.join([f\"'{k}'\" for k in D])",
    "', '.join(f'{i}:{v!r}' for i, v in enumerate(L))",
    "', '.join(f'{i}:{v}' for i, v in enumerate(L, 1)) + ', '.join(f'{i}' for i, v in enumerate(TU, start=-5))",
    "', '.join(f'{a}={b}' for a, b in zip(TU, L))",
    "', '.join(f'{a}{b}{c}' for a, (b, c) in zip(L, D.items()))",
    "str([x for x in D.values()]) + str([(k, v) for k, v in ND.items()])",
    "str(list(D)) + str(tuple(D.values())) + str(list()) + str(tuple(L)) + str(list(enumerate(TU)))",
    "str(list(zip(L, TU, D))) + str(tuple(zip()))",
    "str(sorted(['b', 'a', 'é', 'B'])) + str(sorted([3, 1.5, True, -1])) + str(sorted(D, reverse=True))",
    "str(sorted(ROLES.items())) + str(sorted([(1, 'b'), (1, 'a'), (0, 'z')]))",
    "json.dumps(D) + json.dumps(L) + json.dumps(U) + json.dumps(S) + json.dumps(N) + json.dumps(NO)",
    "json.dumps(D, sort_keys=True) + json.dumps(D, indent=2) + json.dumps(D, indent='\\t')",
    "json.dumps(U, ensure_ascii=False) + json.dumps({'k': 'v', 'l': ['a', None]}, separators=(',', ':'))",
    "json.dumps([F, TINY, HUGE, 1e16, 1e15, -0.0, 0.1 + 0.2, 1e400, -1e400, 5e-324])",
    "json.dumps(E) + json.dumps([]) + json.dumps({'a': [], 'b': {}}, indent=0) + json.dumps(())",
    "json.dumps({1: 'a', 2.5: 'b', True: 'c', None: 'd', False: 'e'})",
    "json.dumps(ROLES, sort_keys=True, indent=1) + json.dumps(TU) + json.dumps(ROLES['admin'])",
    "dumps(ROLES['viewer'], indent=-1) + dumps([[1, [2, {}]]], indent=3)",
    "f\"UPDATE apps SET kind = 'checkin' WHERE system_app_type = {checkin_app_type}\"",
    "f'{0x1F} {0o17} {0b101} {1_000_000} {.5} {5.} {1e5} {1E-5} {0_0} {0x_ff} {1_0.2_5e-1_0}'",
    "f'{1e16} {1e15} {123456789012345678.0} {0.0001} {0.00001} {2.0}'",
    "f'{170141183460469231731687303715884105727}{-170141183460469231731687303715884105727}'",
    "f'{True + 1.5}{N + True}{[] + [N]}{() + ONE}'",
];

/// Expressions CPython rejects with an exception: `migrate` must refuse each.
const RAISING: &[&str] = &[
    "json.dumps(ND)",
    "json.dumps({'b': 1, 1: 2}, sort_keys=True)",
    "json.dumps(D.items())",
    "str(L[5])",
    "D['missing']",
    "ND[[1]]",
    "str(sorted([1, 'a']))",
    "'%d' % S",
    "'%d' % 1e400",
    "'%s %s' % (N,)",
    "'{0}{}'.format(N, F)",
    "', '.join(L)",
    "str(len(N))",
    "N + S",
    "-S",
    "str({[1]: 2})",
];

/// Forms `migrate` refuses although CPython computes them (outside the model, refused by name).
const REFUSED: &[&str] = &[
    "f'{N:>5}'",
    "'%5s' % S",
    "'{:d}'.format(N)",
    "f'{N if T else F}'",
    "str(L[1:])",
    "str({1, 2})",
    "str({k: v for k, v in D.items()})",
    "', '.join(x for x in D if x)",
    "str(N * 2)",
    "str(N - 1)",
    "str(len(zip(L)))",
    "f'{N=}'",
    "json.dumps(D, default=str)",
    "str(2 ** 200)",
];

#[test]
fn value_forms_fold_byte_identical_to_cpython() {
    let bodies: Vec<String> = FORMS.iter().map(|e| format!("op.execute({e})")).collect();
    check(&bodies, &[]);
}

#[test]
fn what_cpython_raises_on_is_refused() {
    let bodies: Vec<String> = RAISING.iter().map(|e| format!("op.execute({e})")).collect();
    check(&bodies, &[]);
    for b in &bodies {
        assert_eq!(folded(&module(b)), None, "{b}");
    }
}

#[test]
fn forms_outside_the_model_are_refused() {
    let bodies: Vec<String> = REFUSED.iter().map(|e| format!("op.execute({e})")).collect();
    let allowed: Vec<&str> = bodies.iter().map(String::as_str).collect();
    check(&bodies, &allowed);
    for b in &bodies {
        assert_eq!(folded(&module(b)), None, "{b}");
    }
}

/// Loops in `upgrade()`: over dict items with `json.dumps` of the values (a case the issue
/// names), enumerate, zip, nested unpacking, and the loop variable living on after the loop.
const LOOPS: &[&str] = &[
    "for name, spec in ROLES.items():\n    op.execute(f\"INSERT INTO roles (name, spec) VALUES ('{name}', '{json.dumps(spec)}')\")",
    "for i, (k, v) in enumerate(D.items()):\n    op.execute(f'-- {i} {k} {v!r}')\nop.execute(f'after: {i} {k}')",
    "for a, b in zip(TU, L):\n    op.execute('SELECT %s, %r' % (a, b))",
    "for k in D:\n    op.execute(k)\nfor v in D.values():\n    op.execute(str(v))",
    "for k, v in sorted(ROLES.items(), reverse=True):\n    for perm in v['can']:\n        op.execute(f'GRANT {perm} TO {k}')",
    "for n in [1, 2.5, True, None]:\n    op.execute('SELECT %s' % (n,))",
    "for (a, b), c in [((1, 2), 3)]:\n    op.execute(f'{a}{b}{c}')",
    "for x in E:\n    op.execute(x)\nop.execute('empty loop ran nothing')",
    "pairs = list(zip(TU, L))\nfor a, b in pairs:\n    op.execute(f'{a}{b}')\nop.execute(str(pairs))",
    "items = D.items()\nop.execute(str(items))\nop.execute(str(list(items)))",
    "count = len(ROLES)\nop.execute(f'SELECT {count}')\nlimit = count + 1\nop.execute('LIMIT %d' % limit)",
];

/// Bodies CPython raises on or `migrate` must refuse (a used-up iterator kept in a name).
const LOOPS_REFUSED: &[&str] = &[
    "for a, b in D.items():\n    op.execute(a)\nfor a, b, c in D.items():\n    op.execute(a)",
    "for k in D:\n    pass\nop.execute(v)",
    "pairs = zip(TU, L)\nop.execute(str(list(pairs)))\nop.execute(str(list(pairs)))",
    "g = (x for x in TU)\nop.execute(', '.join(g))",
    "[x for x in TU]\nop.execute(x)",
];

#[test]
fn loops_over_constants_fold_as_cpython_runs_them() {
    let bodies: Vec<String> = LOOPS.iter().map(|s| s.to_string()).collect();
    check(&bodies, &[]);
    for b in &bodies {
        assert!(folded(&module(b)).is_some(), "{b}");
    }
    let refused: Vec<String> = LOOPS_REFUSED.iter().map(|s| s.to_string()).collect();
    let allowed: Vec<&str> = refused.iter().map(String::as_str).collect();
    check(&refused, &allowed);
    for b in &refused {
        assert_eq!(folded(&module(b)), None, "{b}");
    }
}

/// A random float literal: 1 to 19 significant digits, a point anywhere, an exponent from
/// -340 to 320 (subnormals, overflow to inf and every repr notation boundary included).
fn float_literal(r: &mut Rng) -> String {
    let n = 1 + r.below(19) as usize;
    let digits: String = (0..n)
        .map(|_| char::from(b'0' + r.below(10) as u8))
        .collect();
    let point = r.below(n as u64 + 1) as usize;
    let mut lit = format!("{}.{}", &digits[..point], &digits[point..]);
    if lit == "." {
        lit = "0.".into();
    }
    match r.below(4) {
        0 => lit,
        1 => format!("{lit}e{}", r.below(40) as i64 - 20),
        _ => format!("{lit}e{}", r.below(661) as i64 - 340),
    }
}

#[test]
fn generated_floats_and_ints_print_as_cpython_prints_them() {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let mut bodies = Vec::new();
    for _ in 0..60 {
        let floats: Vec<String> = (0..25)
            .map(|_| {
                let lit = float_literal(&mut r);
                match r.below(4) {
                    0 => format!("{{-{lit}}}"),
                    1 => format!("{{{lit}!r}}|{{json.dumps({lit})}}"),
                    _ => format!("{{{lit}}}"),
                }
            })
            .collect();
        bodies.push(format!("op.execute(f'{}')", floats.join(" ")));
        let ints: Vec<String> = (0..25)
            .map(|_| {
                let v = r.next() as i128 * if r.below(2) == 0 { 1 } else { -1 };
                let v = v >> r.below(64);
                let lit = match r.below(4) {
                    0 => format!("{:#x}", v.unsigned_abs()),
                    1 => format!("{:#o}", v.unsigned_abs()),
                    2 => format!("{:#b}", v.unsigned_abs()),
                    _ => {
                        // Decimal with an underscore between two digits somewhere.
                        let s = v.unsigned_abs().to_string();
                        if s.len() > 2 {
                            let k = 1 + r.below(s.len() as u64 - 1) as usize;
                            format!("{}_{}", &s[..k], &s[k..])
                        } else {
                            s
                        }
                    }
                };
                let sign = if v < 0 { "-" } else { "" };
                match r.below(3) {
                    0 => format!("{{{sign}{lit}}}"),
                    1 => format!("{{\"%d\" % {sign}{lit}}}"),
                    _ => format!("{{{sign}{lit} + {}}}", float_literal(&mut r)),
                }
            })
            .collect();
        bodies.push(format!("op.execute(f'{}')", ints.join(" ")));
    }
    check(&bodies, &[]);
}

/// Random nested constants (strings with quotes, escapes and non-ASCII text, numbers,
/// booleans, `None`, lists, tuples, dicts with mixed keys) printed every way the model knows.
#[test]
fn generated_containers_print_as_cpython_prints_them() {
    fn atom(r: &mut Rng) -> String {
        r.pick(&[
            "'it\\'s'",
            "\"q\\\"uote\"",
            "'é😀\\x00\\x1f\\x7f\\u2028'",
            "'\\\\'",
            "''",
            "'plain'",
            "0",
            "-7",
            "3",
            "2.5",
            "-0.0",
            "1e-9",
            "1e300",
            "True",
            "False",
            "None",
        ])
        .to_string()
    }
    fn value(r: &mut Rng, depth: u32) -> String {
        if depth == 0 || r.below(3) == 0 {
            return atom(r);
        }
        let n = r.below(4);
        let items: Vec<String> = (0..n).map(|_| value(r, depth - 1)).collect();
        match r.below(4) {
            0 => format!("[{}]", items.join(", ")),
            1 if n == 1 => format!("({},)", items[0]),
            1 => format!("({})", items.join(", ")),
            _ => {
                let pairs: Vec<String> =
                    items.iter().map(|v| format!("{}: {v}", atom(r))).collect();
                format!("{{{}}}", pairs.join(", "))
            }
        }
    }
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut bodies = Vec::new();
    for _ in 0..300 {
        let v = value(&mut r, 3);
        let form = match r.below(9) {
            0 => format!("str({v})"),
            1 => format!("repr({v})"),
            2 => format!("'%a' % ({v},)"),
            3 => format!("json.dumps({v})"),
            4 => format!("json.dumps({v}, ensure_ascii=False, sort_keys=True)"),
            5 => format!("json.dumps({v}, indent={})", r.below(3)),
            6 => format!("'%s|%r' % ({v}, {v})"),
            7 => format!("'{{}}|{{!r}}'.format({v}, {v})"),
            _ => format!("str(list(enumerate({v})))"),
        };
        bodies.push(format!("op.execute({form})"));
    }
    // Some of these raise in CPython (unhashable or unsortable keys, iterating a number):
    // `migrate` must refuse exactly those, and compute every other one.
    check(&bodies, &[]);
}
