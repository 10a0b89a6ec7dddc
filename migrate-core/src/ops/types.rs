//! Column types as a revision names them: the SQLAlchemy class (generic, or one of the
//! `postgresql.` / `mysql.` / `sqlite.` dialect types) and its arguments.
//!
//! A type is data: each backend's DDL compiler decides how it renders (or refuses to, as
//! SQLAlchemy does, e.g. `postgresql.JSONB` on MySQL). [`TypeClass::visit`] is the name
//! SQLAlchemy's type compilers dispatch on, so a backend overrides exactly the renderings its
//! SQLAlchemy dialect overrides.

/// Which SQLAlchemy module a type class comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeModule {
    /// `sqlalchemy` / `sqlalchemy.types`.
    Generic,
    /// `sqlalchemy.dialects.postgresql`.
    Postgresql,
    /// `sqlalchemy.dialects.mysql`.
    Mysql,
    /// `sqlalchemy.dialects.sqlite`.
    Sqlite,
}

macro_rules! type_classes {
    ($($variant:ident => $module:ident, $class:literal, $visit:ident;)*) => {
        /// A SQLAlchemy type class `migrate` knows (a generic one or a dialect's).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum TypeClass {
            $(
                #[doc = concat!("`", $class, "`")]
                $variant,
            )*
        }

        impl TypeClass {
            /// The class for `module` and its class name (`Generic`, `"String"`), if known.
            pub fn find(module: TypeModule, class: &str) -> Option<TypeClass> {
                #[allow(unreachable_patterns)]
                match (module, class) {
                    $((TypeModule::$module, $class) => Some(TypeClass::$variant),)*
                    _ => None,
                }
            }

            /// The module the class belongs to.
            pub fn module(self) -> TypeModule {
                match self {
                    $(TypeClass::$variant => TypeModule::$module,)*
                }
            }

            /// The class name, as the revision writes it.
            pub fn class_name(self) -> &'static str {
                match self {
                    $(TypeClass::$variant => $class,)*
                }
            }

            /// What SQLAlchemy's type compilers dispatch on for this class.
            pub fn visit(self) -> Visit {
                match self {
                    $(TypeClass::$variant => Visit::$visit,)*
                }
            }
        }
    };
}

type_classes! {
    String => Generic, "String", String;
    Text => Generic, "Text", Text;
    Unicode => Generic, "Unicode", Unicode;
    UnicodeText => Generic, "UnicodeText", UnicodeText;
    Integer => Generic, "Integer", Integer;
    SmallInteger => Generic, "SmallInteger", SmallInteger;
    BigInteger => Generic, "BigInteger", BigInteger;
    Boolean => Generic, "Boolean", Boolean;
    DateTime => Generic, "DateTime", DateTime;
    Date => Generic, "Date", Date;
    Time => Generic, "Time", Time;
    Interval => Generic, "Interval", Interval;
    Numeric => Generic, "Numeric", Numeric;
    Float => Generic, "Float", Float;
    Double => Generic, "Double", Double;
    LargeBinary => Generic, "LargeBinary", LargeBinary;
    Enum => Generic, "Enum", Enum;
    Json => Generic, "JSON", Json;
    Uuid => Generic, "Uuid", Uuid;
    Array => Generic, "ARRAY", Array;
    Varchar => Generic, "VARCHAR", Varchar;
    Nvarchar => Generic, "NVARCHAR", Nvarchar;
    Char => Generic, "CHAR", Char;
    Nchar => Generic, "NCHAR", Nchar;
    TextUpper => Generic, "TEXT", TextUpper;
    Clob => Generic, "CLOB", Clob;
    IntegerUpper => Generic, "INTEGER", IntegerUpper;
    Int => Generic, "INT", IntegerUpper;
    Smallint => Generic, "SMALLINT", Smallint;
    Bigint => Generic, "BIGINT", Bigint;
    BooleanUpper => Generic, "BOOLEAN", BooleanUpper;
    DatetimeUpper => Generic, "DATETIME", DatetimeUpper;
    DateUpper => Generic, "DATE", DateUpper;
    TimeUpper => Generic, "TIME", TimeUpper;
    Timestamp => Generic, "TIMESTAMP", Timestamp;
    NumericUpper => Generic, "NUMERIC", NumericUpper;
    Decimal => Generic, "DECIMAL", Decimal;
    FloatUpper => Generic, "FLOAT", FloatUpper;
    Real => Generic, "REAL", Real;
    DoubleUpper => Generic, "DOUBLE", DoubleUpper;
    DoublePrecision => Generic, "DOUBLE_PRECISION", DoublePrecision;
    Blob => Generic, "BLOB", Blob;
    Binary => Generic, "BINARY", Binary;
    Varbinary => Generic, "VARBINARY", Varbinary;
    UuidUpper => Generic, "UUID", UuidUpper;
    PgJsonb => Postgresql, "JSONB", Jsonb;
    PgJson => Postgresql, "JSON", Json;
    PgArray => Postgresql, "ARRAY", Array;
    PgInet => Postgresql, "INET", Inet;
    PgCidr => Postgresql, "CIDR", Cidr;
    PgMacaddr => Postgresql, "MACADDR", Macaddr;
    PgTimestamp => Postgresql, "TIMESTAMP", Timestamp;
    PgTime => Postgresql, "TIME", TimeUpper;
    PgInterval => Postgresql, "INTERVAL", IntervalUpper;
    PgBytea => Postgresql, "BYTEA", Bytea;
    PgEnum => Postgresql, "ENUM", Enum;
    PgHstore => Postgresql, "HSTORE", Hstore;
    PgTsvector => Postgresql, "TSVECTOR", Tsvector;
    PgCitext => Postgresql, "CITEXT", Citext;
    PgMoney => Postgresql, "MONEY", Money;
    PgOid => Postgresql, "OID", Oid;
    PgBit => Postgresql, "BIT", Bit;
    MyTinyint => Mysql, "TINYINT", Tinyint;
    MySmallint => Mysql, "SMALLINT", Smallint;
    MyMediumint => Mysql, "MEDIUMINT", Mediumint;
    MyInteger => Mysql, "INTEGER", IntegerUpper;
    MyBigint => Mysql, "BIGINT", Bigint;
    MyDecimal => Mysql, "DECIMAL", Decimal;
    MyNumeric => Mysql, "NUMERIC", NumericUpper;
    MyFloat => Mysql, "FLOAT", FloatUpper;
    MyDouble => Mysql, "DOUBLE", DoubleUpper;
    MyReal => Mysql, "REAL", Real;
    MyBit => Mysql, "BIT", Bit;
    MyVarchar => Mysql, "VARCHAR", Varchar;
    MyChar => Mysql, "CHAR", Char;
    MyNvarchar => Mysql, "NVARCHAR", Nvarchar;
    MyNchar => Mysql, "NCHAR", Nchar;
    MyText => Mysql, "TEXT", TextUpper;
    MyTinytext => Mysql, "TINYTEXT", Tinytext;
    MyMediumtext => Mysql, "MEDIUMTEXT", Mediumtext;
    MyLongtext => Mysql, "LONGTEXT", Longtext;
    MyDatetime => Mysql, "DATETIME", DatetimeUpper;
    MyTimestamp => Mysql, "TIMESTAMP", Timestamp;
    MyTime => Mysql, "TIME", TimeUpper;
    MyYear => Mysql, "YEAR", Year;
    MyJson => Mysql, "JSON", Json;
    MyEnum => Mysql, "ENUM", EnumUpper;
    MySet => Mysql, "SET", Set;
    MyTinyblob => Mysql, "TINYBLOB", Tinyblob;
    MyMediumblob => Mysql, "MEDIUMBLOB", Mediumblob;
    MyLongblob => Mysql, "LONGBLOB", Longblob;
    LiteJson => Sqlite, "JSON", Json;
    LiteDatetime => Sqlite, "DATETIME", DateTime;
    LiteDate => Sqlite, "DATE", Date;
    LiteTime => Sqlite, "TIME", Time;
}

/// The names SQLAlchemy's type compilers dispatch on (`visit_string`, `visit_VARCHAR`, ...):
/// a generic class's lowercase visit redirects to an uppercase one, which dialects override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Visit {
    String,
    Text,
    Unicode,
    UnicodeText,
    Integer,
    SmallInteger,
    BigInteger,
    Boolean,
    DateTime,
    Date,
    Time,
    Interval,
    Numeric,
    Float,
    Double,
    LargeBinary,
    Enum,
    Uuid,
    Json,
    Array,
    Varchar,
    Nvarchar,
    Char,
    Nchar,
    TextUpper,
    Clob,
    IntegerUpper,
    Smallint,
    Bigint,
    BooleanUpper,
    DatetimeUpper,
    DateUpper,
    TimeUpper,
    Timestamp,
    NumericUpper,
    Decimal,
    FloatUpper,
    Real,
    DoubleUpper,
    DoublePrecision,
    Blob,
    Binary,
    Varbinary,
    UuidUpper,
    Jsonb,
    Inet,
    Cidr,
    Macaddr,
    IntervalUpper,
    Bytea,
    EnumUpper,
    Hstore,
    Tsvector,
    Citext,
    Money,
    Oid,
    Bit,
    Tinyint,
    Mediumint,
    Tinytext,
    Mediumtext,
    Longtext,
    Year,
    Set,
    Tinyblob,
    Mediumblob,
    Longblob,
}

/// A column type: its class and every argument that changes its DDL. The arguments most
/// types take are fields; the rest, rare, are in [`SqlType::details`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlType {
    /// The SQLAlchemy class.
    pub class: TypeClass,
    /// `length` (strings, binaries, `BIT`, `Enum(length=)`).
    pub length: Option<u32>,
    /// `precision` (numerics, floats, PostgreSQL `TIMESTAMP`/`TIME`/`INTERVAL`).
    pub precision: Option<u32>,
    /// `scale` (numerics).
    pub scale: Option<u32>,
    /// `timezone=True` (date-time types).
    pub timezone: bool,
    /// `collation`.
    pub collation: Option<String>,
    /// The other arguments, when any differs from its default.
    pub more: Option<Box<TypeDetails>>,
}

/// The arguments of the types that take more than a length, precision, scale, time zone or
/// collation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDetails {
    /// MySQL `fsp` (fractional seconds of `DATETIME`, `TIMESTAMP`, `TIME`).
    pub fsp: Option<u32>,
    /// MySQL `display_width` (integer types, `YEAR`).
    pub display_width: Option<u32>,
    /// MySQL `unsigned`.
    pub unsigned: bool,
    /// MySQL `zerofill`.
    pub zerofill: bool,
    /// MySQL `charset`.
    pub charset: Option<String>,
    /// MySQL `national`.
    pub national: bool,
    /// MySQL `binary` (string types).
    pub binary: bool,
    /// MySQL `ascii`.
    pub ascii: bool,
    /// MySQL `unicode`.
    pub unicode: bool,
    /// The values of an `Enum` / `ENUM` / `SET`.
    pub values: Vec<String>,
    /// The name of an `Enum` (the PostgreSQL type's name).
    pub name: Option<String>,
    /// The schema of a PostgreSQL enum type.
    pub schema: Option<String>,
    /// `Enum(native_enum=)` (default true).
    pub native_enum: bool,
    /// `Enum(create_constraint=)` / `Boolean(create_constraint=)` (default false).
    pub create_constraint: bool,
    /// `postgresql.ENUM(create_type=)` (default true).
    pub create_type: bool,
    /// `Uuid(native_uuid=)` (default true).
    pub native_uuid: bool,
    /// `ARRAY`'s item type.
    pub item: Option<Box<SqlType>>,
    /// `ARRAY(dimensions=)`.
    pub dimensions: Option<u32>,
    /// PostgreSQL `BIT(varying=)`.
    pub varying: bool,
    /// PostgreSQL `INTERVAL(fields=)`.
    pub fields: Option<String>,
    /// `Interval(native=)` (default true).
    pub native: bool,
}

/// Every [`TypeDetails`] at its default.
static DEFAULT_DETAILS: TypeDetails = DEFAULTS;

/// [`DEFAULT_DETAILS`] as a constant, built in place (no clone) by [`TypeDetails::default`].
const DEFAULTS: TypeDetails = TypeDetails {
    fsp: None,
    display_width: None,
    unsigned: false,
    zerofill: false,
    charset: None,
    national: false,
    binary: false,
    ascii: false,
    unicode: false,
    values: Vec::new(),
    name: None,
    schema: None,
    native_enum: true,
    create_constraint: false,
    create_type: true,
    native_uuid: true,
    item: None,
    dimensions: None,
    varying: false,
    fields: None,
    native: true,
};

impl Default for TypeDetails {
    fn default() -> Self {
        DEFAULTS
    }
}

impl SqlType {
    /// The type `class()` with every argument at its default.
    pub fn new(class: TypeClass) -> SqlType {
        SqlType {
            class,
            length: None,
            precision: None,
            scale: None,
            timezone: false,
            collation: None,
            more: None,
        }
    }

    /// The rarer arguments (their defaults when none was given).
    pub fn details(&self) -> &TypeDetails {
        self.more.as_deref().unwrap_or(&DEFAULT_DETAILS)
    }

    /// Keep `details` unless they are all defaults.
    pub fn set_details(&mut self, details: TypeDetails) {
        self.more = (details != DEFAULT_DETAILS).then(|| Box::new(details));
    }

    /// True for the integer family (SQLAlchemy's `Integer` type affinity).
    pub fn is_integer(&self) -> bool {
        use TypeClass::*;
        matches!(
            self.class,
            Integer
                | SmallInteger
                | BigInteger
                | IntegerUpper
                | Int
                | Smallint
                | Bigint
                | MyTinyint
                | MySmallint
                | MyMediumint
                | MyInteger
                | MyBigint
        )
    }

    /// True for `BigInteger` and its subclasses (PostgreSQL renders `BIGSERIAL`).
    pub fn is_big_integer(&self) -> bool {
        use TypeClass::*;
        matches!(self.class, BigInteger | Bigint | MyBigint)
    }

    /// True for `SmallInteger` and its subclasses (PostgreSQL renders `SMALLSERIAL`).
    pub fn is_small_integer(&self) -> bool {
        use TypeClass::*;
        matches!(self.class, SmallInteger | Smallint | MySmallint)
    }

    /// True for the fixed-point family (SQLAlchemy's `Numeric` affinity; `Float` has its own
    /// affinity in SQLAlchemy 2.1).
    pub fn is_numeric(&self) -> bool {
        use TypeClass::*;
        matches!(
            self.class,
            Numeric | NumericUpper | Decimal | MyDecimal | MyNumeric
        )
    }

    /// True for the `DateTime` affinity (`DateTime`, `DATETIME`, `TIMESTAMP` and the
    /// dialects' versions).
    pub fn is_datetime(&self) -> bool {
        use TypeClass::*;
        matches!(
            self.class,
            DateTime
                | DatetimeUpper
                | Timestamp
                | PgTimestamp
                | MyDatetime
                | MyTimestamp
                | LiteDatetime
        )
    }

    /// True for `TIMESTAMP` and its dialect subclasses.
    pub fn is_timestamp(&self) -> bool {
        use TypeClass::*;
        matches!(self.class, Timestamp | PgTimestamp | MyTimestamp)
    }

    /// True for the enum family (`Enum`, `postgresql.ENUM`, `mysql.ENUM`).
    pub fn is_enum(&self) -> bool {
        use TypeClass::*;
        matches!(self.class, Enum | PgEnum | MyEnum)
    }
}
