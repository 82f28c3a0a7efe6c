//! The evaluation context: a targeting key plus any attributes, and how an
//! attribute path (`company.plan`) finds a value in it.
//!
//! A context is stored ready for lookups: every attribute, nested objects'
//! members included, is one small entry with its whole dotted path and its
//! hash, side by side in document order, and the paths and the text of every
//! string and number lie in one buffer beside them. A lookup scans a few
//! cache lines and compares paths instead of walking maps, and reading a
//! request body builds no map and allocates nothing per attribute
//! ([`Context::from_json_slice`]). Contexts with many entries also get a hash
//! index.

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
    /// Entries by path hash, when there are more than [`INDEXED`].
    index: Option<hashbrown::HashTable<u32>>,
}

/// One attribute: 48 bytes, everything a lookup and a test read.
#[derive(Clone, Copy)]
struct Entry {
    /// The [`path_hash`] of its path: a lookup compares these first.
    hash: u64,
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
    /// Its kind, as diagnostics name it.
    fn kind_name(&self) -> &'static str {
        match self {
            Leaf::Null => "null",
            Leaf::Bool(_) => "a boolean",
            Leaf::Number(_) => "a number",
            Leaf::String(_) => "a string",
            Leaf::List(_) => "a list",
            Leaf::Object => "an object",
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
        let found = self.found(path, path_hash(path))?;
        if self.entries[found].kind == Kind::Null {
            return None;
        }
        let values = self.values.get_or_init(|| (0..self.entries.len()).map(|_| OnceLock::new()).collect());
        Some(values[found].get_or_init(|| self.json(found)))
    }

    /// The attribute at `path`, whose [`path_hash`] is `hash` (worked out
    /// once per file, for the paths a compiled file looks up), as
    /// [`Context::lookup`] finds it.
    pub(crate) fn attribute(&self, path: &str, hash: u64) -> Option<Attribute<'_>> {
        let found = self.found(path, hash)?;
        let e = &self.entries[found];
        let value = match e.kind {
            Kind::Null => return None,
            Kind::False => AttributeValue::Bool(false),
            Kind::True => AttributeValue::Bool(true),
            Kind::Number => AttributeValue::Number(e.number, self.span(e.value)),
            Kind::String => AttributeValue::String(self.span(e.value)),
            Kind::List => AttributeValue::Other(&self.rare.as_ref()?.lists[e.value.start as usize]),
            Kind::Object => AttributeValue::Other(self.lookup(path)?),
        };
        Some(Attribute { value, kept: Some((self, found)) })
    }

    /// The entry a lookup of `path` finds (null included): walking wins
    /// over a top-level key spelled with dots.
    #[inline(always)]
    fn found(&self, path: &str, hash: u64) -> Option<usize> {
        if let Some(index) = self.rare.as_ref().and_then(|r| r.index.as_ref()) {
            let find =
                |reach| index.find(hash, |&i| self.is(&self.entries[i as usize], path, reach)).map(|&i| i as usize);
            return find(Reach::Walk).or_else(|| find(Reach::Literal));
        }
        let mut literal = None;
        for (i, e) in self.entries.iter().enumerate() {
            if e.hash == hash && same(self.bytes(e.path), path.as_bytes()) {
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

    fn find(&self, path: &str, hash: u64, reach: Reach) -> Option<usize> {
        self.entries.iter().position(|e| e.hash == hash && self.is(e, path, reach))
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
        let start = self.text.len();
        let reach = if parent == TOP {
            if key.contains('.') { Reach::Literal } else { Reach::Walk }
        } else {
            let p = self.entries[parent as usize];
            let walk = p.reach == Reach::Walk && !key.contains('.');
            self.text.extend_from_within(p.path.start as usize..p.path.end as usize);
            self.text.push('.');
            if walk { Reach::Walk } else { Reach::Hidden }
        };
        let key_start = self.text.len() as u32;
        self.text.push_str(key);
        let path = Span { start: start as u32, end: self.text.len() as u32 };
        let hash = path_hash(&self.text[start..]);
        let (mut number, mut value) = (f64::NAN, Span::default());
        let mut text = |t: &str| {
            let start = self.text.len() as u32;
            self.text.push_str(t);
            Span { start, end: self.text.len() as u32 }
        };
        let kind = match leaf {
            Leaf::Null => Kind::Null,
            Leaf::Bool(false) => Kind::False,
            Leaf::Bool(true) => Kind::True,
            Leaf::Number(t) => {
                number = t.parse::<f64>().ok().filter(|n| n.is_finite()).unwrap_or(f64::NAN);
                value = text(t);
                Kind::Number
            }
            Leaf::String(s) => {
                value = text(s);
                Kind::String
            }
            Leaf::List(items) => {
                let lists = &mut self.rare.get_or_insert_default().lists;
                value.start = lists.len() as u32;
                lists.push(Value::Array(items));
                Kind::List
            }
            Leaf::Object => Kind::Object,
        };
        self.entries.push(Entry { hash, number, path, key_start, parent, value, reach, kind });
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
        }
        self.targeting = self.find(TARGETING_KEY, path_hash(TARGETING_KEY), Reach::Walk).map(|i| i as u32);
        if self.entries.len() <= INDEXED {
            return;
        }
        let mut index = hashbrown::HashTable::with_capacity(self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            if matches!(e.reach, Reach::Walk | Reach::Literal) {
                index.insert_unique(e.hash, i as u32, |&j| self.entries[j as usize].hash);
            }
        }
        self.rare.get_or_insert_default().index = Some(index);
    }

    /// Check the targeting key and index the entries.
    fn finish(mut self) -> Result<Self, ContextError> {
        self.reindex();
        match self.targeting.map(|i| (i as usize, self.entries[i as usize].kind)) {
            None | Some((_, Kind::String | Kind::Null)) => Ok(self),
            Some((i, _)) => Err(ContextError::TargetingKeyNotString(crate::diagnostic::kind_of(&self.json(i)))),
        }
    }
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

/// The hash of an attribute path: the same for every context in a process,
/// so a compiled file works out the hashes of its paths once.
pub(crate) fn path_hash(path: &str) -> u64 {
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
        let kind = leaf.kind_name();
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
        // The members so far, to find a key read twice: a list while the
        // object is small, a hash map (of copies of the keys) when it is wide.
        let mut members = [0u32; INDEXED];
        let mut count = 0;
        let mut wide: Option<hashbrown::HashMap<String, u32>> = None;
        loop {
            let at = context.entries.len() as u32;
            let earlier = match &mut wide {
                Some(seen) => seen.insert(key.clone(), at),
                None => {
                    let small = &mut members[..count];
                    match small.iter().position(|&m| context.key_of(&context.entries[m as usize]) == key) {
                        Some(i) => Some(std::mem::replace(&mut small[i], at)),
                        None if count < INDEXED => {
                            members[count] = at;
                            count += 1;
                            None
                        }
                        None => {
                            let mut seen: hashbrown::HashMap<String, u32> = members
                                .iter()
                                .map(|&m| (context.key_of(&context.entries[m as usize]).to_owned(), m))
                                .collect();
                            seen.insert(key.clone(), at);
                            wide = Some(seen);
                            None
                        }
                    }
                }
            };
            if let Some(earlier) = earlier {
                context.replace(earlier as usize);
            }
            map.next_value_seed(ValueSeed { context: &mut *context, parent: id, key: Some(&key) })?;
            key.clear();
            if map.next_key_seed(KeySeed(&mut key))?.is_none() {
                return Ok(());
            }
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

    #[test]
    fn null_is_absent() {
        for c in both(json!({"email": null})) {
            assert_eq!(c.lookup("email"), None);
        }
    }

    #[test]
    fn the_same_attributes_hash_the_same() {
        let digest = |c: &Context| {
            let mut h = std::hash::DefaultHasher::new();
            c.hash(&mut h);
            h.finish()
        };
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
