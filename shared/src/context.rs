//! The evaluation context: a targeting key plus any attributes, and how an
//! attribute path (`company.plan`) finds a value in it.
//!
//! A context is stored ready for lookups: every attribute, nested objects'
//! members included, is one small entry with its whole dotted path and its
//! head (the path's length and first bytes), side by side in document order,
//! and the paths and the text of every string and number lie in one buffer
//! beside them. A lookup scans a few cache lines and compares heads instead
//! of walking maps. Reading a request body builds no map and allocates
//! nothing per attribute, whether with `serde_json` ([`ContextSeed`],
//! [`Context::from_json_slice`]) or with the `jiter` pull parser
//! ([`read_context`], within an [`Allowance`] of values and depth).
//! Contexts with many entries also get a hash index.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::OnceLock;

use semver::Version;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use thiserror::Error;

/// The key of the targeting key in a context.
pub const TARGETING_KEY: &str = "targetingKey";

/// Past this many entries, lookups go through a hash index.
const INDEXED: usize = 16;

/// `serde_json`'s name for a number read with `arbitrary_precision` (it
/// comes to a visitor as a map with this one key).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// No parent: a top-level attribute.
const TOP: u32 = u32::MAX;

/// What a request says about the user: `targetingKey` and attributes.
#[derive(Clone, Default)]
pub struct Context {
    /// Every attribute, an object before its members, in document order.
    entries: Vec<Entry>,
    /// Every entry's path, and the text of every string and number, one
    /// after another (an entry has its ranges).
    text: String,
    /// The top-level `targetingKey` entry, if any.
    targeting: Option<u32>,
    /// What few contexts have: lists, and an index when there are many entries.
    rare: Option<Box<Rare>>,
    /// Values as JSON, by entry, each made when [`Context::lookup`] first
    /// asks for it (evaluation never does).
    values: OnceLock<Box<[OnceLock<Value>]>>,
    /// Strings read as versions, by entry, each read once: evaluating every
    /// flag may ask the same version again and again.
    versions: OnceLock<Box<[OnceLock<Option<Version>>]>>,
}

/// The parts of a context that few contexts have.
#[derive(Clone, Default)]
struct Rare {
    /// The lists, whole (ops test a list as one value).
    lists: Vec<Value>,
    /// Entries by [`index_hash`], when there are more than [`INDEXED`].
    index: Option<hashbrown::HashTable<u32>>,
    /// Every entry's [`index_hash`], by entry, for the index.
    hashes: Vec<u64>,
}

/// One attribute: 48 bytes, everything a lookup and a test read.
#[derive(Clone, Copy)]
struct Entry {
    /// The [`path_head`] of its path: a lookup compares these first.
    head: u64,
    /// A number's value (`NaN` beyond `f64`).
    number: f64,
    /// The whole path in `text` (`company.plan`).
    path: Span,
    /// Where the entry's own key starts in `text` (`plan`).
    key_start: u32,
    parent: u32,
    /// A string's or a number's text in `text`; a list's place in `Rare::lists` (its start).
    value: Span,
    reach: Reach,
    kind: Kind,
}

/// A range of [`Context::text`].
#[derive(Clone, Copy, Default)]
struct Span {
    start: u32,
    end: u32,
}

/// An entry whose path is written and whose value is still to come.
struct Begun {
    parent: u32,
    path: Span,
    key_start: u32,
    reach: Reach,
    head: u64,
}

/// What kind of value an entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Null,
    False,
    True,
    Number,
    String,
    List,
    /// Its members are the entries that follow it.
    Object,
}

impl Kind {
    /// The kind, as diagnostics name it (as `diagnostic::kind_of` names a JSON value's).
    fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::False | Kind::True => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::List => "a list",
            Kind::Object => "an object",
        }
    }
}

/// How a lookup may find an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// By walking nested objects: a path of keys without dots.
    Walk,
    /// A top-level key spelled with dots (`"company.plan": …`), found only
    /// when walking finds nothing.
    Literal,
    /// Under a key with a dot: no path reaches it (kept for [`Context::attributes`]).
    Hidden,
    /// Replaced by a later value of the same key.
    Replaced,
}

/// A value on its way into a context.
enum Leaf<'v> {
    Null,
    Bool(bool),
    /// A number's JSON text (valid: the JSON reader checked it).
    Number(&'v str),
    String(&'v str),
    List(Vec<Value>),
    Object,
}

impl Leaf<'_> {
    /// The kind of entry it makes.
    fn kind(&self) -> Kind {
        match self {
            Leaf::Null => Kind::Null,
            Leaf::Bool(false) => Kind::False,
            Leaf::Bool(true) => Kind::True,
            Leaf::Number(_) => Kind::Number,
            Leaf::String(_) => Kind::String,
            Leaf::List(_) => Kind::List,
            Leaf::Object => Kind::Object,
        }
    }
}

/// An attribute's value as the tests of conditions see it: strings and
/// numbers straight from the context's text, no JSON value made.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AttributeValue<'c> {
    Bool(bool),
    /// Its value (`NaN` beyond `f64`) and its JSON text.
    Number(f64, &'c str),
    String(&'c str),
    /// A list or an object.
    Other(&'c Value),
}

impl<'v> AttributeValue<'v> {
    /// The view of a JSON value (`None` for null).
    pub(crate) fn of(value: &'v Value) -> Option<Self> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(b) => AttributeValue::Bool(*b),
            Value::Number(n) => AttributeValue::Number(n.as_f64().unwrap_or(f64::NAN), n.as_str()),
            Value::String(s) => AttributeValue::String(s),
            other => AttributeValue::Other(other),
        })
    }

    /// The string, when it is one.
    pub(crate) fn as_str(&self) -> Option<&'v str> {
        match self {
            AttributeValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// An attribute found in a context, for the tests of conditions.
pub(crate) struct Attribute<'c> {
    /// Its value (never null).
    pub(crate) value: AttributeValue<'c>,
    /// The context and entry it came from, where a version read from it is kept.
    kept: Option<(&'c Context, usize)>,
}

impl<'c> Attribute<'c> {
    /// A value on its own (nothing is kept); `None` for null.
    #[cfg(test)]
    pub(crate) fn of(value: &'c Value) -> Option<Self> {
        Some(Attribute { value: AttributeValue::of(value)?, kept: None })
    }

    /// The value read as a version by `parse`, when it is a string.
    pub(crate) fn version(&self, parse: fn(&str) -> Option<Version>) -> Option<std::borrow::Cow<'c, Version>> {
        let text = self.value.as_str()?;
        match self.kept {
            Some((context, i)) => {
                let versions =
                    context.versions.get_or_init(|| (0..context.entries.len()).map(|_| OnceLock::new()).collect());
                versions[i].get_or_init(|| parse(text)).as_ref().map(std::borrow::Cow::Borrowed)
            }
            None => parse(text).map(std::borrow::Cow::Owned),
        }
    }
}

/// Why a JSON value is not a context.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContextError {
    /// The context is not a JSON object.
    #[error("the context must be a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// `targetingKey` is present but not a string.
    #[error("`targetingKey` must be a string, found {0}")]
    TargetingKeyNotString(&'static str),
}

/// Why a JSON text is not a context.
#[derive(Debug, Error)]
pub enum ContextTextError {
    /// Not JSON.
    #[error("{0}")]
    Syntax(serde_json::Error),
    /// JSON, but not a context.
    #[error(transparent)]
    Context(#[from] ContextError),
}

impl Context {
    /// An empty context (no targeting key, no attributes).
    pub fn new() -> Self {
        Context::default()
    }

    /// A context with just a targeting key.
    pub fn with_key(key: impl Into<String>) -> Self {
        let key: String = key.into();
        let mut c = Context::new();
        c.push(TOP, TARGETING_KEY, Leaf::String(&key));
        c.reindex();
        c
    }

    /// A context from a JSON object; `targetingKey`, when present, must be a
    /// string (null counts as absent).
    pub fn from_json(value: Value) -> Result<Self, ContextError> {
        match value {
            Value::Object(attributes) => Context::from_map(attributes),
            other => Err(ContextError::NotAnObject(crate::diagnostic::kind_of(&other))),
        }
    }

    /// A context from a JSON object's fields.
    pub fn from_map(attributes: Map<String, Value>) -> Result<Self, ContextError> {
        let mut c = Context::new();
        c.add_members(TOP, attributes);
        c.finish()
    }

    /// A context from the text of a JSON object, read straight into the
    /// context (no JSON tree is built on the way).
    pub fn from_json_slice(text: &[u8]) -> Result<Self, ContextTextError> {
        let mut de = serde_json::Deserializer::from_slice(text);
        let read = ContextSeed.deserialize(&mut de).and_then(|read| de.end().map(|()| read));
        match read.map_err(ContextTextError::Syntax)? {
            Ok(Some(context)) => Ok(context),
            Ok(None) => Err(ContextError::NotAnObject("null").into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Set an attribute (a top-level key; use nested objects for paths).
    pub fn set(&mut self, key: impl Into<String>, value: Value) -> &mut Self {
        let key = key.into();
        self.replace_sibling(TOP, &key);
        self.add(TOP, &key, value);
        self.reindex();
        self
    }

    /// The targeting key, when present.
    pub fn targeting_key(&self) -> Option<&str> {
        let e = &self.entries[self.targeting? as usize];
        (e.kind == Kind::String).then(|| self.span(e.value))
    }

    /// The context's fields as JSON.
    pub fn attributes(&self) -> Map<String, Value> {
        let mut top = Map::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.parent == TOP && e.reach != Reach::Replaced {
                top.insert(self.key_of(e).to_owned(), self.json(i));
            }
        }
        top
    }

    /// The value at a dot-separated path, or `None` when absent or null.
    ///
    /// `company.plan` walks nested objects (`{"company": {"plan": ..}}`); when
    /// that finds nothing, a top-level key spelled `company.plan` is used, so
    /// flat contexts (as from query strings) work too.
    pub fn lookup(&self, path: &str) -> Option<&Value> {
        let found = self.found(path, path_head(path))?;
        (self.entries[found].kind != Kind::Null).then(|| self.value_of(found))
    }

    /// Entry `i`'s value as JSON, made once.
    fn value_of(&self, i: usize) -> &Value {
        let values = self.values.get_or_init(|| (0..self.entries.len()).map(|_| OnceLock::new()).collect());
        values[i].get_or_init(|| self.json(i))
    }

    /// The attribute at `path`, whose [`path_head`] is `head` (worked out
    /// once per file, for the paths a compiled file looks up), as
    /// [`Context::lookup`] finds it.
    pub(crate) fn attribute(&self, path: &str, head: u64) -> Option<Attribute<'_>> {
        let found = self.found(path, head)?;
        let e = &self.entries[found];
        let value = match e.kind {
            Kind::Null => return None,
            Kind::False => AttributeValue::Bool(false),
            Kind::True => AttributeValue::Bool(true),
            Kind::Number => AttributeValue::Number(e.number, self.span(e.value)),
            Kind::String => AttributeValue::String(self.span(e.value)),
            Kind::List => AttributeValue::Other(&self.rare.as_ref()?.lists[e.value.start as usize]),
            Kind::Object => AttributeValue::Other(self.value_of(found)),
        };
        Some(Attribute { value, kept: Some((self, found)) })
    }

    /// The entry a lookup of `path` finds (null included): walking wins
    /// over a top-level key spelled with dots.
    #[inline(always)]
    fn found(&self, path: &str, head: u64) -> Option<usize> {
        if let Some(index) = self.rare.as_ref().and_then(|r| r.index.as_ref()) {
            let hash = index_hash(path);
            let find =
                |reach| index.find(hash, |&i| self.is(&self.entries[i as usize], path, reach)).map(|&i| i as usize);
            return find(Reach::Walk).or_else(|| find(Reach::Literal));
        }
        // A head holds a path of up to seven bytes whole.
        let short = path.len() <= 7;
        let mut literal = None;
        for (i, e) in self.entries.iter().enumerate() {
            if e.head == head && (short || same(self.bytes(e.path), path.as_bytes())) {
                match e.reach {
                    Reach::Walk => return Some(i),
                    Reach::Literal => literal = Some(i),
                    Reach::Hidden | Reach::Replaced => {}
                }
            }
        }
        literal
    }

    /// Whether entry `e` is at `path` and found by `reach`.
    fn is(&self, e: &Entry, path: &str, reach: Reach) -> bool {
        e.reach == reach && same(self.bytes(e.path), path.as_bytes())
    }

    fn bytes(&self, s: Span) -> &[u8] {
        &self.text.as_bytes()[s.start as usize..s.end as usize]
    }

    fn span(&self, s: Span) -> &str {
        &self.text[s.start as usize..s.end as usize]
    }

    fn key_of(&self, e: &Entry) -> &str {
        &self.text[e.key_start as usize..e.path.end as usize]
    }

    /// Whether entry `e`'s own key is `key` (lengths first: most keys differ in length).
    fn key_is(&self, e: &Entry, key: &str) -> bool {
        (e.path.end - e.key_start) as usize == key.len()
            && same(&self.text.as_bytes()[e.key_start as usize..e.path.end as usize], key.as_bytes())
    }

    /// Entry `i`'s value as JSON; an object with its members.
    fn json(&self, i: usize) -> Value {
        let e = &self.entries[i];
        match e.kind {
            Kind::Null => Value::Null,
            Kind::False => Value::Bool(false),
            Kind::True => Value::Bool(true),
            Kind::Number => self.span(e.value).parse::<Number>().map_or(Value::Null, Value::Number),
            Kind::String => Value::String(self.span(e.value).to_owned()),
            Kind::List => self.rare.as_ref().map_or(Value::Null, |r| r.lists[e.value.start as usize].clone()),
            Kind::Object => {
                let mut members = Map::new();
                for j in self.subtree(i).skip(1) {
                    let child = &self.entries[j];
                    if child.parent as usize == i && child.reach != Reach::Replaced {
                        members.insert(self.key_of(child).to_owned(), self.json(j));
                    }
                }
                Value::Object(members)
            }
        }
    }

    /// Add one entry under `parent`; its index.
    fn push(&mut self, parent: u32, key: &str, leaf: Leaf<'_>) -> u32 {
        let begun = self.begin(parent, key);
        self.end(begun, leaf)
    }

    /// Start an entry under `parent` at `key`: its path is written (a
    /// reader can then read the value, and [`Context::end`] it).
    fn begin(&mut self, parent: u32, key: &str) -> Begun {
        let start = self.text.len() as u32;
        let dotted = key.bytes().any(|b| b == b'.');
        let reach = if parent == TOP {
            if dotted { Reach::Literal } else { Reach::Walk }
        } else {
            let p = self.entries[parent as usize];
            self.text.extend_from_within(p.path.start as usize..p.path.end as usize);
            self.text.push('.');
            if p.reach == Reach::Walk && !dotted { Reach::Walk } else { Reach::Hidden }
        };
        let key_start = self.text.len() as u32;
        self.text.push_str(key);
        let path = Span { start, end: self.text.len() as u32 };
        let head = path_head(&self.text[start as usize..]);
        Begun { parent, path, key_start, reach, head }
    }

    /// Finish a [`Context::begin`]ed entry with its value; its index.
    fn end(&mut self, begun: Begun, leaf: Leaf<'_>) -> u32 {
        let Begun { parent, path, key_start, reach, head } = begun;
        let (mut number, mut value) = (f64::NAN, Span::default());
        let mut text = |t: &str| {
            let start = self.text.len() as u32;
            self.text.push_str(t);
            Span { start, end: self.text.len() as u32 }
        };
        let kind = leaf.kind();
        match leaf {
            Leaf::Null | Leaf::Bool(_) | Leaf::Object => {}
            Leaf::Number(t) => {
                number = number_value(t);
                value = text(t);
            }
            Leaf::String(s) => value = text(s),
            Leaf::List(items) => {
                let lists = &mut self.rare.get_or_insert_default().lists;
                value.start = lists.len() as u32;
                lists.push(Value::Array(items));
            }
        }
        self.entries.push(Entry { head, number, path, key_start, parent, value, reach, kind });
        (self.entries.len() - 1) as u32
    }

    /// Add `value` under `parent` at `key`, an object's members as entries.
    fn add(&mut self, parent: u32, key: &str, value: Value) {
        match value {
            Value::Object(members) => {
                let id = self.push(parent, key, Leaf::Object);
                self.add_members(id, members);
            }
            Value::Null => _ = self.push(parent, key, Leaf::Null),
            Value::Bool(b) => _ = self.push(parent, key, Leaf::Bool(b)),
            Value::Number(n) => _ = self.push(parent, key, Leaf::Number(n.as_str())),
            Value::String(s) => _ = self.push(parent, key, Leaf::String(&s)),
            Value::Array(items) => _ = self.push(parent, key, Leaf::List(items)),
        }
    }

    fn add_members(&mut self, parent: u32, members: Map<String, Value>) {
        for (key, value) in members {
            self.add(parent, &key, value);
        }
    }

    /// A later value of `key` under `parent` replaces an earlier one (as in
    /// a JSON object read twice the same key): the earlier one, and what is
    /// under it, no longer count.
    fn replace_sibling(&mut self, parent: u32, key: &str) {
        let found =
            self.entries.iter().position(|e| e.parent == parent && e.reach != Reach::Replaced && self.key_of(e) == key);
        if let Some(old) = found {
            self.replace(old);
        }
    }

    /// Entry `old` and what is under it no longer count.
    fn replace(&mut self, old: usize) {
        for i in self.subtree(old) {
            self.entries[i].reach = Reach::Replaced;
        }
    }

    /// Entry `i` and its members, theirs and so on: members follow their
    /// object, so entry `j` is in `i`'s subtree when its parent lies
    /// between `i` and `j`.
    fn subtree(&self, i: usize) -> std::ops::Range<usize> {
        let end = self.entries[i + 1..]
            .iter()
            .zip(i + 1..)
            .find(|(e, j)| e.parent == TOP || (e.parent as usize) < i || e.parent as usize >= *j)
            .map_or(self.entries.len(), |(_, j)| j);
        i..end
    }

    /// Find the targeting key again, and index the entries when there are many.
    fn reindex(&mut self) {
        self.values = OnceLock::new();
        self.versions = OnceLock::new();
        if let Some(rare) = &mut self.rare {
            rare.index = None;
            rare.hashes.clear();
        }
        self.targeting = self.found(TARGETING_KEY, path_head(TARGETING_KEY)).map(|i| i as u32);
        if self.entries.len() <= INDEXED {
            return;
        }
        let hashes: Vec<u64> = self.entries.iter().map(|e| index_hash(self.span(e.path))).collect();
        let mut index = hashbrown::HashTable::with_capacity(self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            if matches!(e.reach, Reach::Walk | Reach::Literal) {
                index.insert_unique(hashes[i], i as u32, |&j| hashes[j as usize]);
            }
        }
        let rare = self.rare.get_or_insert_default();
        rare.index = Some(index);
        rare.hashes = hashes;
    }

    /// Check the targeting key and index the entries.
    fn finish(mut self) -> Result<Self, ContextError> {
        self.reindex();
        match self.targeting.map(|i| (i as usize, self.entries[i as usize].kind)) {
            None | Some((_, Kind::String | Kind::Null)) => Ok(self),
            Some((_, kind)) => Err(ContextError::TargetingKeyNotString(kind.name())),
        }
    }
}

/// A number's value from its JSON text (`NaN` beyond `f64`): a short integer
/// (most numbers in contexts: counts, ids, seats) is added up digit by
/// digit, exactly; anything else goes to the standard parser.
fn number_value(text: &str) -> f64 {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, text),
    };
    if (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Fifteen digits stay below 2^53: the sum is exact in an f64.
        let n = digits.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')) as f64;
        return if negative { -n } else { n };
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite()).unwrap_or(f64::NAN)
}

/// Whether two byte strings are equal, compared inline a word at a time
/// with overlapping loads at the end: paths and attribute values are short,
/// and a call to `memcmp` costs more than comparing them.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        // The first, middle and last bytes cover up to three.
        0 => true,
        1..4 => (a[0] == b[0]) & (a[n / 2] == b[n / 2]) & (a[n - 1] == b[n - 1]),
        4..=8 => {
            let word = |s: &[u8], i: usize| s[i..].first_chunk::<4>().map(|w| u32::from_ne_bytes(*w));
            (word(a, 0) == word(b, 0)) & (word(a, n - 4) == word(b, n - 4))
        }
        _ => {
            let word = |s: &[u8], i: usize| s[i..].first_chunk::<8>().map(|w| u64::from_ne_bytes(*w));
            (0..n - 8).step_by(8).all(|i| word(a, i) == word(b, i)) && word(a, n - 8) == word(b, n - 8)
        }
    }
}

/// A path's length and first seven bytes in one number: equal heads mean
/// equal paths for paths of up to seven bytes (most attribute names), and
/// for longer ones a lookup compares the paths after their heads. A compiled
/// file works out the heads of its paths once.
pub(crate) fn path_head(path: &str) -> u64 {
    let bytes = path.as_bytes();
    let first = bytes.iter().take(7).enumerate().fold(0u64, |word, (i, &b)| word | u64::from(b) << (8 * i));
    first | (bytes.len().min(255) as u64) << 56
}

/// The hash of an attribute path, for the index of a wide context: the same
/// for every context in a process.
fn index_hash(path: &str) -> u64 {
    static STATE: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    STATE.get_or_init(foldhash::fast::RandomState::default).hash_one(path)
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.attributes() == other.attributes()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Context").field(&self.attributes()).finish()
    }
}

/// Attributes are hashed in order, each by its place in the tree, its key,
/// its kind and its text: the same attributes read from a value or from a
/// text hash the same, and two contexts that can evaluate differently do not.
impl Hash for Context {
    fn hash<H: Hasher>(&self, state: &mut H) {
        struct Text<'h, H>(&'h mut H);
        impl<H: Hasher> std::io::Write for Text<'_, H> {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.write(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for e in self.entries.iter().filter(|e| e.reach != Reach::Replaced) {
            state.write_u32(e.parent);
            state.write(self.key_of(e).as_bytes());
            state.write_u8(0xff);
            state.write_u8(e.kind as u8);
            match e.kind {
                Kind::Number | Kind::String => state.write(self.span(e.value).as_bytes()),
                Kind::List => {
                    if let Some(rare) = &self.rare {
                        let _ = serde_json::to_writer(Text(state), &rare.lists[e.value.start as usize]);
                    }
                }
                Kind::Null | Kind::False | Kind::True | Kind::Object => {}
            }
            state.write_u8(0xff);
        }
    }
}

/// Reads a context from any `serde` deserializer of JSON (for a context
/// inside a bigger document, such as an OFREP request body): the
/// deserializer's errors are syntax errors; a value that is not a context is
/// `Ok(Err(…))`, and `null` is `Ok(Ok(None))`.
pub struct ContextSeed;

impl<'de> DeserializeSeed<'de> for ContextSeed {
    type Value = Result<Option<Context>, ContextError>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        // Room for a dozen attributes with their paths and text before anything grows.
        let mut c = Context { entries: Vec::with_capacity(12), text: String::with_capacity(320), ..Context::default() };
        let shape = ValueSeed { context: &mut c, parent: TOP, key: None }.deserialize(d)?;
        Ok(match shape {
            Shape::Object => c.finish().map(Some),
            Shape::Other("null") => Ok(None),
            Shape::Other(kind) => Err(ContextError::NotAnObject(kind)),
        })
    }
}

/// What [`ValueSeed`] read: an object (its members are entries now), or
/// another kind of value.
enum Shape {
    Object,
    Other(&'static str),
}

/// Reads one JSON value: with a `key`, into an entry under `parent`;
/// without (the whole text), only an object is kept.
struct ValueSeed<'c, 'k> {
    context: &'c mut Context,
    parent: u32,
    key: Option<&'k str>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Shape;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
}

impl ValueSeed<'_, '_> {
    fn leaf(self, leaf: Leaf<'_>) -> Shape {
        let kind = leaf.kind().name();
        if let Some(key) = self.key {
            self.context.push(self.parent, key, leaf);
        }
        Shape::Other(kind)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = Shape;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Shape, E> {
        Ok(self.leaf(Leaf::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Shape, E> {
        Ok(self.leaf(Leaf::Number(Number::from(v).as_str())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Shape, E> {
        Ok(self.leaf(Leaf::Number(Number::from(v).as_str())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Shape, E> {
        let n = Number::from_f64(v).ok_or_else(|| E::custom("a number that is not finite"))?;
        Ok(self.leaf(Leaf::Number(n.as_str())))
    }
    fn visit_str<E>(self, v: &str) -> Result<Shape, E> {
        Ok(self.leaf(Leaf::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(self.leaf(Leaf::Null))
    }
    fn visit_none<E>(self) -> Result<Shape, E> {
        Ok(self.leaf(Leaf::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        // A list is kept whole: ops test it as one value.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(self.leaf(Leaf::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut key = String::new();
        if map.next_key_seed(KeySeed(&mut key))?.is_none() {
            return self.object(map, None).map(|()| Shape::Object);
        }
        if key == NUMBER_TOKEN {
            // A number, as `arbitrary_precision` hands it over: its text.
            key.clear();
            map.next_value_seed(KeySeed(&mut key))?;
            return Ok(self.leaf(Leaf::Number(&key)));
        }
        self.object(map, Some(key)).map(|()| Shape::Object)
    }
}

impl ValueSeed<'_, '_> {
    /// An object whose first key (if any) is read already. A key read
    /// again replaces the earlier value, as in `serde_json`'s maps.
    fn object<'de, A: MapAccess<'de>>(self, mut map: A, first: Option<String>) -> Result<(), A::Error> {
        let ValueSeed { context, parent, key } = self;
        let id = match key {
            Some(key) => context.push(parent, key, Leaf::Object),
            None => TOP,
        };
        let Some(mut key) = first else { return Ok(()) };
        let mut members = Members::default();
        loop {
            members.add(context, &key);
            map.next_value_seed(ValueSeed { context: &mut *context, parent: id, key: Some(&key) })?;
            key.clear();
            if map.next_key_seed(KeySeed(&mut key))?.is_none() {
                return Ok(());
            }
        }
    }
}

/// The keys of one object read so far, to find a key read twice (a later
/// value replaces an earlier one, as in `serde_json`'s maps): a list while
/// the object is small, a hash map (of copies of the keys) when it is wide.
#[derive(Default)]
struct Members {
    small: [u32; INDEXED],
    count: usize,
    wide: Option<hashbrown::HashMap<String, u32>>,
}

impl Members {
    /// The next entry of `context` is the member `key`: an earlier member
    /// of that key no longer counts.
    fn add(&mut self, context: &mut Context, key: &str) {
        let at = context.entries.len() as u32;
        let earlier = match &mut self.wide {
            Some(seen) => seen.insert(key.to_owned(), at),
            None => {
                let small = &mut self.small[..self.count];
                match small.iter().position(|&m| context.key_is(&context.entries[m as usize], key)) {
                    Some(i) => Some(std::mem::replace(&mut small[i], at)),
                    None if self.count < INDEXED => {
                        self.small[self.count] = at;
                        self.count += 1;
                        None
                    }
                    None => {
                        let mut seen: hashbrown::HashMap<String, u32> = self
                            .small
                            .iter()
                            .map(|&m| (context.key_of(&context.entries[m as usize]).to_owned(), m))
                            .collect();
                        seen.insert(key.to_owned(), at);
                        self.wide = Some(seen);
                        None
                    }
                }
            }
        };
        if let Some(earlier) = earlier {
            context.replace(earlier as usize);
        }
    }
}

/// Reads an object key into a reused buffer.
struct KeySeed<'k>(&'k mut String);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

/// How much JSON a pull read ([`read_context`], [`skip_value`]) may walk:
/// how many values, counted as a text scan counts them (every opening of a
/// list or object, and every comma), and how deep lists and objects nest.
/// Past either, the read stops ([`Unread`]).
#[derive(Debug, Clone)]
pub struct Allowance {
    values: usize,
    depth: usize,
}

impl Allowance {
    /// Room for `values` values (the whole text counts as one) and `depth` levels.
    pub fn new(values: usize, depth: usize) -> Self {
        Allowance { values: values.saturating_sub(1), depth }
    }

    /// One more value, as a comma before it counts it.
    pub fn count(&mut self) -> Result<(), Unread> {
        self.values = self.values.checked_sub(1).ok_or(Unread)?;
        Ok(())
    }

    /// Into an object or a list that a caller reads itself: it counts as a
    /// value, and what it holds has one level less.
    pub fn enter(&mut self) -> Result<(), Unread> {
        self.depth = self.depth.checked_sub(1).ok_or(Unread)?;
        self.count()
    }

    fn open(&mut self, depth: usize) -> Result<(), Unread> {
        if depth >= self.depth {
            return Err(Unread);
        }
        self.count()
    }
}

/// A pull read stopped: the text is not JSON as `serde_json` reads it, or
/// it is over its [`Allowance`]. The caller reads the text again with
/// `serde_json` for the precise error; nothing read is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the JSON text is malformed or over its allowance")]
pub struct Unread;

impl From<jiter::JiterError> for Unread {
    fn from(_: jiter::JiterError) -> Self {
        Unread
    }
}

/// Read the next JSON value of `jiter` as a context, straight into it (a
/// pull parser: no visitors, no JSON tree): `Ok(Ok(None))` for `null`,
/// `Ok(Err(…))` for a value that is no context, as [`ContextSeed`] reads it.
pub fn read_context(
    jiter: &mut jiter::Jiter<'_>,
    allowance: &mut Allowance,
) -> Result<Result<Option<Context>, ContextError>, Unread> {
    let peek = jiter.peek()?;
    if peek != jiter::Peek::Object {
        return Ok(match skip_known(jiter, peek, allowance, 0)? {
            Kind::Null => Ok(None),
            kind => Err(ContextError::NotAnObject(kind.name())),
        });
    }
    let mut c = Context { entries: Vec::with_capacity(12), text: String::with_capacity(320), ..Context::default() };
    allowance.open(0)?;
    PullReader { jiter, allowance, context: &mut c }.members(TOP, 1)?;
    Ok(c.finish().map(Some))
}

/// Walk past the next JSON value of `jiter`, within `allowance`.
pub fn skip_value(jiter: &mut jiter::Jiter<'_>, allowance: &mut Allowance) -> Result<(), Unread> {
    skip_value_at(jiter, allowance, 0)
}

/// Walk past a value whose first byte was `peek`, at `depth`; its kind.
fn skip_known(
    jiter: &mut jiter::Jiter<'_>,
    peek: jiter::Peek,
    allowance: &mut Allowance,
    depth: usize,
) -> Result<Kind, Unread> {
    use jiter::Peek;
    Ok(match peek {
        Peek::Null => {
            jiter.known_null()?;
            Kind::Null
        }
        Peek::True | Peek::False => {
            if jiter.known_bool(peek)? {
                Kind::True
            } else {
                Kind::False
            }
        }
        Peek::String => {
            jiter.known_str()?;
            Kind::String
        }
        Peek::Array => {
            allowance.open(depth)?;
            let mut next = jiter.known_array()?;
            let mut first = true;
            while let Some(peek) = next {
                if !std::mem::take(&mut first) {
                    allowance.count()?;
                }
                skip_known(jiter, peek, allowance, depth + 1)?;
                next = jiter.array_step()?;
            }
            Kind::List
        }
        Peek::Object => {
            allowance.open(depth)?;
            let mut key = jiter.known_object()?.is_some();
            let mut first = true;
            while key {
                if !std::mem::take(&mut first) {
                    allowance.count()?;
                }
                skip_value_at(jiter, allowance, depth + 1)?;
                key = jiter.next_key()?.is_some();
            }
            Kind::Object
        }
        number if number.is_num() => {
            known_number(jiter, number)?;
            Kind::Number
        }
        _ => return Err(Unread),
    })
}

fn skip_value_at(jiter: &mut jiter::Jiter<'_>, allowance: &mut Allowance, depth: usize) -> Result<(), Unread> {
    let peek = jiter.peek()?;
    skip_known(jiter, peek, allowance, depth).map(|_| ())
}

/// A number's text, checked as `serde_json` checks it (`jiter` alone would
/// take a few texts that `serde_json` refuses, such as `1.` or `01`), and
/// written as `serde_json` keeps it: an exponent as `e` with its sign (`1E5`
/// is `1e+5`), so a context reads the same either way.
fn known_number<'j>(jiter: &'j mut jiter::Jiter<'_>, peek: jiter::Peek) -> Result<std::borrow::Cow<'j, str>, Unread> {
    let bytes = jiter.known_number_bytes(peek)?;
    let text = std::str::from_utf8(bytes).map_err(|_| Unread)?;
    if !is_json_number(text) {
        return Err(Unread);
    }
    Ok(match text.split_once(['e', 'E']) {
        None => std::borrow::Cow::Borrowed(text),
        Some((mantissa, exponent)) => {
            let sign = if exponent.starts_with(['+', '-']) { "" } else { "+" };
            std::borrow::Cow::Owned(format!("{mantissa}e{sign}{exponent}"))
        }
    })
}

/// Whether `text` is a number by JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(text: &str) -> bool {
    let b = text.strip_prefix('-').unwrap_or(text).as_bytes();
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(b);
    if int == 0 || (int > 1 && b[0] == b'0') {
        return false;
    }
    let mut rest = &b[int..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    if let Some(exponent) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exponent = exponent.strip_prefix(b"+").or_else(|| exponent.strip_prefix(b"-")).unwrap_or(exponent);
        let n = digits(exponent);
        if n == 0 {
            return false;
        }
        rest = &exponent[n..];
    }
    rest.is_empty()
}

/// Reads an object's members into a context with a pull parser.
struct PullReader<'a, 'j> {
    jiter: &'a mut jiter::Jiter<'j>,
    allowance: &'a mut Allowance,
    context: &'a mut Context,
}

impl PullReader<'_, '_> {
    /// The members of an object under `parent` at `depth`, its `{` next.
    /// Each key is written into the context before its value is read, so
    /// it is never copied on its own.
    fn members(&mut self, parent: u32, depth: usize) -> Result<(), Unread> {
        let mut members = Members::default();
        let mut key = self.jiter.known_object()?;
        let mut first = true;
        while let Some(k) = key {
            if !std::mem::take(&mut first) {
                self.allowance.count()?;
            }
            members.add(self.context, k);
            let begun = self.context.begin(parent, k);
            self.member(begun, depth)?;
            key = self.jiter.next_key()?;
        }
        Ok(())
    }

    /// One member's value, its entry begun.
    fn member(&mut self, begun: Begun, depth: usize) -> Result<(), Unread> {
        use jiter::Peek;
        let peek = self.jiter.peek()?;
        match peek {
            Peek::Null => {
                self.jiter.known_null()?;
                self.context.end(begun, Leaf::Null);
            }
            Peek::True | Peek::False => {
                let b = self.jiter.known_bool(peek)?;
                self.context.end(begun, Leaf::Bool(b));
            }
            Peek::String => {
                let s = self.jiter.known_str()?;
                self.context.end(begun, Leaf::String(s));
            }
            Peek::Object => {
                self.allowance.open(depth)?;
                let id = self.context.end(begun, Leaf::Object);
                self.members(id, depth + 1)?;
            }
            Peek::Array => {
                // A list is kept whole (ops test it as one value): walked
                // within the allowance, then read as JSON.
                let start = self.jiter.current_index();
                skip_known(self.jiter, peek, self.allowance, depth)?;
                let items = serde_json::from_slice(self.jiter.slice_to_current(start)).map_err(|_| Unread)?;
                self.context.end(begun, Leaf::List(items));
            }
            number if number.is_num() => {
                let text = known_number(self.jiter, number)?;
                self.context.end(begun, Leaf::Number(&text));
            }
            _ => return Err(Unread),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: Value) -> Context {
        Context::from_json(v).unwrap()
    }

    /// Both ways of reading a context: from a JSON value and from its text.
    fn both(v: Value) -> [Context; 2] {
        [ctx(v.clone()), Context::from_json_slice(v.to_string().as_bytes()).unwrap()]
    }

    #[test]
    fn nested_paths_and_flat_keys() {
        for c in both(json!({"targetingKey": "u1", "company": {"plan": "pro"}, "a.b": 1})) {
            assert_eq!(c.lookup("company.plan"), Some(&json!("pro")));
            assert_eq!(c.lookup("a.b"), Some(&json!(1)));
            assert_eq!(c.lookup("targetingKey"), Some(&json!("u1")));
            assert_eq!(c.lookup("company.size"), None);
            assert_eq!(c.lookup("company.plan.x"), None);
            assert_eq!(c.lookup("company"), Some(&json!({"plan": "pro"})));
            assert_eq!(c.targeting_key(), Some("u1"));
        }
    }

    #[test]
    fn walking_wins_over_a_flat_key_and_a_null_on_the_way_shadows_it() {
        for c in both(json!({"a": {"b": 2}, "a.b": 1, "x": {"y": null}, "x.y": 3, "n": null, "n.m": 4})) {
            assert_eq!(c.lookup("a.b"), Some(&json!(2)));
            assert_eq!(c.lookup("x.y"), None, "a null found by walking is the answer");
            assert_eq!(c.lookup("n.m"), Some(&json!(4)), "a null object is no object: the flat key");
        }
    }

    #[test]
    fn keys_with_dots_below_the_top_are_out_of_reach() {
        for c in both(json!({"a": {"b.c": 1, "d": {"e": 5}}, "l": [{"m": 1}], "": {"": 7}})) {
            assert_eq!(c.lookup("a.b.c"), None);
            assert_eq!(c.lookup("a.d.e"), Some(&json!(5)));
            assert_eq!(c.lookup("a"), Some(&json!({"b.c": 1, "d": {"e": 5}})));
            assert_eq!(c.lookup("l.m"), None, "lists are not walked into");
            assert_eq!(c.lookup("l"), Some(&json!([{"m": 1}])));
            assert_eq!(c.lookup("."), Some(&json!(7)));
        }
    }

    #[test]
    fn numbers_keep_their_text() {
        for c in both(json!({"x": 1.0, "y": 10000000000000000000000u128, "z": -0.5})) {
            assert_eq!(c.lookup("x").unwrap().to_string(), "1.0");
            assert_eq!(c.lookup("y").unwrap().to_string(), "10000000000000000000000");
            assert_eq!(c.lookup("z").unwrap().as_f64(), Some(-0.5));
        }
    }

    #[test]
    fn a_key_read_twice_keeps_the_later_value() {
        let c = Context::from_json_slice(br#"{"a": {"b": 1}, "k": 1, "a": {"c": 2}, "k": 2}"#).unwrap();
        assert_eq!(c.lookup("a.b"), None);
        assert_eq!(c.lookup("a.c"), Some(&json!(2)));
        assert_eq!(c.lookup("k"), Some(&json!(2)));
        assert_eq!(c, ctx(json!({"a": {"c": 2}, "k": 2})));
        let mut set = ctx(json!({"a": {"b": 1}}));
        set.set("a", json!(3));
        assert_eq!(set.lookup("a.b"), None);
        assert_eq!(set.lookup("a"), Some(&json!(3)));
    }

    #[test]
    fn many_attributes_are_indexed_with_the_same_answers() {
        let mut m = Map::new();
        for i in 0..100 {
            m.insert(format!("k{i}"), json!({"v": i}));
        }
        m.insert("k5.v".into(), json!("flat"));
        for c in both(Value::Object(m)) {
            assert!(c.rare.as_ref().is_some_and(|r| r.index.is_some()));
            assert_eq!(c.lookup("k42.v"), Some(&json!(42)));
            assert_eq!(c.lookup("k5.v"), Some(&json!(5)));
            assert_eq!(c.lookup("k100.v"), None);
        }
    }

    #[test]
    fn numbers_are_read_as_the_standard_parser_reads_them() {
        for text in
            ["0", "-0", "7", "-42", "123456789012345", "-999999999999999", "1234567890123456", "1.5", "1e3", "-2.5e-3"]
        {
            let value = number_value(text);
            assert_eq!(value.to_bits(), text.parse::<f64>().unwrap().to_bits(), "{text}");
        }
        assert!(number_value("1e400").is_nan());
    }

    #[test]
    fn heads_tell_short_paths_apart() {
        let paths =
            ["", "a", "b", "ab", "ba", "plan", "email", "country", "version", "countrx", "company.id", "company.ix"];
        for a in paths {
            for b in paths {
                if a.len() <= 7 || b.len() <= 7 {
                    assert_eq!(path_head(a) == path_head(b), a == b, "{a} {b}");
                }
            }
        }
        // Longer paths may share a head; a lookup compares them whole.
        let c = ctx(json!({"company": {"id": 1, "ix": 2}}));
        assert_eq!((c.lookup("company.id"), c.lookup("company.ix")), (Some(&json!(1)), Some(&json!(2))));
    }

    #[test]
    fn same_compares_every_length() {
        let text = "abcdefghijklmnopqrstuvwxyz0123456789";
        for n in 0..text.len() {
            let a = &text.as_bytes()[..n];
            assert!(same(a, a));
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 1;
                assert!(!same(a, &b), "{n} {i}");
            }
            assert!(!same(a, &text.as_bytes()[..n + 1]));
        }
    }

    /// A context's [`Hash`], as a number.
    fn digest(c: &Context) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        c.hash(&mut h);
        h.finish()
    }

    /// A context read with the pull parser, the whole text (`None`: unread).
    fn pulled(text: &[u8]) -> Option<Result<Option<Context>, ContextError>> {
        let mut jiter = jiter::Jiter::new(text);
        let read = read_context(&mut jiter, &mut Allowance::new(10_000, 64)).ok()?;
        jiter.finish().ok()?;
        Some(read)
    }

    #[test]
    fn the_pull_reader_reads_what_the_serde_reader_reads() {
        let texts: &[&[u8]] = &[
            br#"{"targetingKey": "u1", "company": {"plan": "pro", "seats": 42}, "a.b": 1, "l": [1, {"m": [2]}], "n": null}"#,
            br#"{"a": {"b": 1}, "k": 1, "a": {"c": 2}, "k": 2, "t": true, "f": false}"#,
            br#"{"x": 1.0, "y": 10000000000000000000000, "z": -0.5, "e": 1E+2, "m": -0, "q": 2.5e-3, "w": 1e5, "v": 7E-1}"#,
            r#"{"s": "caf\u00e9 \"q\" \\ \n", "u": "ユーザー", "": {"": 7}, "d": {"b.c": 1, "e": {"f": []}}}"#.as_bytes(),
            br#"  { "targetingKey" : null }  "#,
            b"{}",
            b"null",
            b"[1, 2]",
            b"\"text\"",
            b"5",
            br#"{"targetingKey": 5}"#,
            br#"{"targetingKey": {"a": 1}}"#,
        ];
        let paths =
            ["targetingKey", "company.plan", "company.seats", "a.b", "l", "k", "a", "x", "y", "e", "m", "s", "u", "."];
        for text in texts {
            let shown = String::from_utf8_lossy(text);
            let serde = Context::from_json_slice(text);
            let pull = pulled(text).unwrap_or_else(|| panic!("unread: {shown}"));
            match (serde, pull) {
                (Ok(a), Ok(Some(b))) => {
                    assert_eq!(a, b, "{shown}");
                    assert_eq!(digest(&a), digest(&b), "{shown}");
                    for path in paths {
                        assert_eq!(a.lookup(path), b.lookup(path), "{shown}: {path}");
                    }
                }
                (Err(ContextTextError::Context(ContextError::NotAnObject("null"))), Ok(None)) => {}
                (Err(ContextTextError::Context(a)), Err(b)) => assert_eq!(a, b, "{shown}"),
                (a, b) => panic!("{shown}: {a:?} against {b:?}"),
            }
        }
    }

    #[test]
    fn the_pull_reader_leaves_to_serde_what_serde_refuses() {
        let refused: &[&[u8]] = &[
            br#"{"n": 01}"#,
            br#"{"n": 1.}"#,
            br#"{"n": .5}"#,
            br#"{"n": -}"#,
            br#"{"n": 1e}"#,
            br#"{"n": +1}"#,
            br#"{"n": NaN}"#,
            br#"{"n": Infinity}"#,
            br#"{"n": tru}"#,
            br#"{"a": 1,}"#,
            br#"{"a": 1"#,
            b"{\"a\": \"\xff\"}",
            br#"{"a": "\ud800"}"#,
            br#"{"a": 1} x"#,
            br#"{'a': 1}"#,
        ];
        for text in refused {
            let shown = String::from_utf8_lossy(text);
            assert!(Context::from_json_slice(text).is_err(), "serde reads {shown}");
            assert!(pulled(text).is_none_or(|r| r.is_err()), "pulled {shown}");
        }
        for number in ["0", "-0", "10", "1.5", "1e5", "1E-5", "-2.25e+10", "0.0"] {
            assert!(is_json_number(number), "{number}");
        }
        for number in ["", "-", "00", "01", "1.", ".1", "1e", "1e+", "+1", "1.e5", "0x1", "1 "] {
            assert!(!is_json_number(number), "{number}");
        }
    }

    #[test]
    fn the_pull_reader_counts_values_and_depth_as_the_text_scan_does() {
        let read = |text: &str, values, depth| {
            let mut jiter = jiter::Jiter::new(text.as_bytes());
            read_context(&mut jiter, &mut Allowance::new(values, depth)).is_ok()
        };
        // Values: the whole text, each opening, each comma.
        assert!(read(r#"{"a": [1, 2], "b": {}}"#, 6, 64));
        assert!(!read(r#"{"a": [1, 2], "b": {}}"#, 5, 64));
        // Depth: three levels of nesting.
        assert!(read(r#"{"a": {"b": [1]}}"#, 100, 3));
        assert!(!read(r#"{"a": {"b": [1]}}"#, 100, 2));
        let mut jiter = jiter::Jiter::new(b"[[1, 2], 3]");
        assert!(skip_value(&mut jiter, &mut Allowance::new(5, 2)).is_ok());
        let mut jiter = jiter::Jiter::new(b"[[1, 2], 3]");
        assert!(skip_value(&mut jiter, &mut Allowance::new(4, 2)).is_err());
    }

    #[test]
    fn null_is_absent() {
        for c in both(json!({"email": null})) {
            assert_eq!(c.lookup("email"), None);
        }
    }

    #[test]
    fn the_same_attributes_hash_the_same() {
        let [a, b] = both(json!({"targetingKey": "u", "c": {"p": 1}}));
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&ctx(json!({"targetingKey": "u", "c": {"p": 2}}))));
        assert_ne!(digest(&ctx(json!({"a": {"b.c": 1}}))), digest(&ctx(json!({"a": {"b": {"c": 1}}}))));
    }

    #[test]
    fn rejects_non_objects_and_non_string_keys() {
        assert_eq!(Context::from_json(json!([1])), Err(ContextError::NotAnObject("a list")));
        assert_eq!(
            Context::from_json(json!({"targetingKey": 5})),
            Err(ContextError::TargetingKeyNotString("a number"))
        );
        assert!(matches!(
            Context::from_json_slice(b"[1]"),
            Err(ContextTextError::Context(ContextError::NotAnObject("a list")))
        ));
        assert!(matches!(
            Context::from_json_slice(br#"{"targetingKey": {"a": 1}}"#),
            Err(ContextTextError::Context(ContextError::TargetingKeyNotString("an object")))
        ));
        assert!(matches!(Context::from_json_slice(b"{oops"), Err(ContextTextError::Syntax(_))));
        assert!(matches!(Context::from_json_slice(b"{} x"), Err(ContextTextError::Syntax(_))));
    }
}
