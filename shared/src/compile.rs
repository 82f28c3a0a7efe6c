//! A valid [`FlagFile`] → [`CompiledFile`], the evaluation-ready form:
//! environments, flags, variants and segments become indexes; regexes,
//! versions, timestamps and weights are read once; targets and key lists
//! become hash sets. Evaluation ([`crate::eval`]) never looks at the model.

use hashbrown::{HashMap, HashSet};
use indexmap::IndexMap;
use std::cell::RefCell;
use std::sync::Arc;

use serde_json::Value;

use crate::context::{TARGETING_KEY, path_head};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Condition, Flag, FlagEnvironment, FlagFile, Serve};
use crate::ops::{self, Test};
use crate::validate::validate;
use crate::weight::Weight;

/// An environment of a [`CompiledFile`], by position in `environments`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnvId(pub(crate) usize);

/// A segment of a [`CompiledFile`], by position in `segments`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentId(pub(crate) usize);

/// A flag of a [`CompiledFile`], by position in `flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlagId(pub(crate) usize);

impl FlagId {
    /// The flag's position in the file (0 for the first flag), for callers
    /// keeping per-flag data in a `Vec`.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A flags file ready to evaluate. Built only from a file without errors.
#[derive(Debug, Clone)]
pub struct CompiledFile {
    pub(crate) environments: Vec<Box<str>>,
    pub(crate) flags: Vec<CompiledFlag>,
    /// By [`EnvId`], then by [`FlagId`]: each flag's settings in that
    /// environment (`None` where it has no entry, so it is disabled). One
    /// environment's settings of all flags lie side by side, so evaluating
    /// every flag reads memory in order.
    pub(crate) settings: Vec<Vec<Option<FlagEnv>>>,
    /// Every flag's variants, flag after flag, in one block.
    pub(crate) variants: Vec<CompiledVariant>,
    pub(crate) flag_index: HashMap<Box<str>, FlagId>,
    pub(crate) segments: Vec<CompiledSegment>,
    /// Targeting key → where it is an individual target, sorted by flag and
    /// environment: one lookup per evaluation finds a key's targets in every
    /// flag (instead of one hash per flag when evaluating all of them).
    pub(crate) targets: HashMap<Box<str>, Targets>,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// A variant: its key, its value, and the value's JSON text (written once
/// here, so an answer copies it instead of serializing the value again).
#[derive(Debug, Clone)]
pub(crate) struct CompiledVariant {
    pub(crate) key: Box<str>,
    pub(crate) value: Value,
    pub(crate) json: Box<str>,
}

/// An individual target: in flag `flag`'s settings for environment `env`,
/// the key gets variant `variant` (positions, as `u32`: a big file has a
/// hundred thousand of these).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub(crate) flag: u32,
    pub(crate) env: u32,
    pub(crate) variant: u32,
}

/// Where one key is an individual target: most keys are in one place, kept
/// without an allocation of their own.
#[derive(Debug, Clone)]
pub(crate) enum Targets {
    One(Target),
    Many(Box<[Target]>),
}

impl Targets {
    pub(crate) fn as_slice(&self) -> &[Target] {
        match self {
            Targets::One(t) => std::slice::from_ref(t),
            Targets::Many(ts) => ts,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledFlag {
    pub(crate) key: Box<str>,
    pub(crate) stage: Option<Box<str>>,
    /// Where the flag's variants start in [`CompiledFile`]'s `variants`;
    /// variant `i` of the flag is at `first_variant + i`.
    pub(crate) first_variant: usize,
    pub(crate) off: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct FlagEnv {
    pub(crate) enabled: bool,
    pub(crate) prerequisites: Box<[Prerequisite]>,
    /// Whether any key is an individual target here (see [`CompiledFile`]'s `targets`).
    pub(crate) has_targets: bool,
    pub(crate) rules: Box<[CompiledRule]>,
    pub(crate) default: CompiledServe,
    /// No targets, rules or prerequisites, and a single-variant default: `STATIC`.
    pub(crate) is_static: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Prerequisite {
    pub(crate) flag: FlagId,
    pub(crate) variants: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) id: Arc<str>,
    pub(crate) segment: Option<usize>,
    pub(crate) condition: Option<Cond>,
    pub(crate) serve: CompiledServe,
}

#[derive(Debug, Clone)]
pub(crate) enum CompiledServe {
    Variant(usize),
    /// Boxed: a rollout is five times the size of a variant.
    Rollout(Box<RolloutServe>),
}

/// A rollout ready to bucket: each variant's exclusive upper bucket bound.
#[derive(Debug, Clone)]
pub(crate) struct RolloutServe {
    /// `(end, variant)`: buckets below `end` (and at or above the previous end).
    pub(crate) ranges: Box<[(u32, u32)]>,
    /// A variant with weight 100, served without hashing.
    pub(crate) certain: Option<u32>,
    /// Shared by every rollout with the same path (most use `targetingKey`).
    pub(crate) bucket_by: Arc<str>,
    /// The hash of `bucket_by` for context lookups.
    pub(crate) bucket_by_head: u64,
    /// Shared with the flag's other rollouts when it is the flag's key.
    pub(crate) salt: Arc<str>,
}

#[derive(Debug, Clone)]
pub(crate) enum Cond {
    All(Box<[Cond]>),
    Any(Box<[Cond]>),
    None(Box<[Cond]>),
    Segment(usize),
    /// Boxed: a leaf is five times the size of the other kinds.
    Leaf(Box<CompiledLeaf>),
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledLeaf {
    pub(crate) attribute: Arc<str>,
    /// The hash of `attribute` for context lookups, worked out once here.
    pub(crate) attribute_head: u64,
    pub(crate) test: Test,
    pub(crate) kind: LeafKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeafKind {
    Positive,
    Negated,
    Exists,
    NotExists,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledSegment {
    pub(crate) key: Box<str>,
    pub(crate) included: HashSet<Box<str>>,
    pub(crate) excluded: HashSet<Box<str>>,
    pub(crate) condition: Option<Cond>,
}

/// Validate `file` and, when it has no errors, compile it. On failure, every
/// diagnostic (errors and warnings) is returned.
pub fn compile(file: &FlagFile) -> Result<CompiledFile, Vec<Diagnostic>> {
    compile_validated(file, validate(file))
}

/// [`compile`] for a caller that already ran [`validate`] on `file` (say, on
/// another thread) and passes its diagnostics: any error rejects the file.
/// Given diagnostics of some other file, a bad reference is still an error
/// (`internal`), never a panic.
pub fn compile_validated(file: &FlagFile, diagnostics: Vec<Diagnostic>) -> Result<CompiledFile, Vec<Diagnostic>> {
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    Compiler::new(file).file(diagnostics, None).map_err(|d| vec![d])
}

/// [`compile_validated`] for a caller that has no more use for the model:
/// each flag's settings (its rules, conditions and targets, most of a
/// model's memory) are freed as soon as that flag is compiled, so the model
/// and the compiled form are not both whole in memory at once (a server
/// reloading a big file holds the version in service besides).
pub fn compile_owned(file: FlagFile, diagnostics: Vec<Diagnostic>) -> Result<CompiledFile, Vec<Diagnostic>> {
    compile_owned_freeing(file, diagnostics, drop)
}

/// [`compile_owned`] that hands each flag's settings, once compiled, to
/// `free` instead of dropping them (say, to another thread, so that what
/// the model frees is not reused by the compiled form's allocations).
pub fn compile_owned_freeing(
    mut file: FlagFile,
    diagnostics: Vec<Diagnostic>,
    mut free: impl FnMut(IndexMap<String, FlagEnvironment>),
) -> Result<CompiledFile, Vec<Diagnostic>> {
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    let settings: Vec<_> =
        file.flags.values_mut().map(|flag| std::mem::take(&mut Arc::make_mut(flag).environments)).collect();
    Compiler::new(&file).file(diagnostics, Some(Taken { settings, free: &mut free })).map_err(|d| vec![d])
}

/// [`compile_validated`] of only what evaluating `flags` reads: those flags,
/// the flags they name as prerequisites (and theirs, and so on), every
/// segment and the environments. Evaluating any of `flags` in the result
/// gives exactly what the whole file compiled gives; other flags are not in
/// it. For an editor previewing one flag of a big file after every edit:
/// compiling one flag of 10,000 takes a fraction of compiling them all.
/// `diagnostics` are the whole file's: any error rejects it, as
/// [`compile_validated`] does. Keys in `flags` the file lacks are ignored.
pub fn compile_slice(
    file: &FlagFile,
    flags: &[&str],
    diagnostics: Vec<Diagnostic>,
) -> Result<CompiledFile, Vec<Diagnostic>> {
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    let mut needed: HashSet<&str> = HashSet::new();
    let mut todo: Vec<&str> = flags.to_vec();
    while let Some(key) = todo.pop() {
        if let Some((key, flag)) = file.flags.get_key_value(key)
            && needed.insert(key)
        {
            todo.extend(flag.prerequisites().map(|p| p.flag.as_str()));
        }
    }
    let slice = FlagFile {
        schema: None,
        version: file.version,
        environments: file.environments.clone(),
        stages: None,
        segments: file.segments.clone(),
        flags: file
            .flags
            .iter()
            .filter(|(key, _)| needed.contains(key.as_str()))
            .map(|(key, flag)| (key.clone(), Arc::clone(flag)))
            .collect(),
    };
    Compiler::new(&slice).file(diagnostics, None).map_err(|d| vec![d])
}

/// A flag's settings by environment, as in the model.
type Settings = IndexMap<String, FlagEnvironment>;

/// Every flag's settings taken out of the model, in flag order, and what to
/// do with each once its flag is compiled.
struct Taken<'a> {
    settings: Vec<Settings>,
    free: &'a mut dyn FnMut(Settings),
}

/// Lookups a valid file guarantees; a failure here is a bug in validation,
/// reported as an error rather than a panic.
struct Compiler<'f> {
    file: &'f FlagFile,
    /// One copy of each salt, `bucket_by` path, attribute path and rule id.
    strings: RefCell<HashSet<Arc<str>>>,
    flag_index: HashMap<&'f str, usize>,
    segment_index: HashMap<&'f str, usize>,
    /// Filled as flags are compiled, in flag and environment order.
    targets: RefCell<HashMap<Box<str>, Vec<Target>>>,
    /// Filled as flags are compiled, flag after flag.
    variants: RefCell<Vec<CompiledVariant>>,
}

type Compiled<T> = Result<T, Diagnostic>;

fn internal(what: &str) -> Diagnostic {
    Diagnostic::error(Code::Internal, "", format!("internal error: {what} passed validation but cannot be compiled"))
}

impl<'f> Compiler<'f> {
    fn new(file: &'f FlagFile) -> Self {
        let flag_index = file.flags.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let segment_index = file.segments.iter().flatten().enumerate().map(|(i, (k, _))| (k.as_str(), i)).collect();
        Compiler {
            file,
            strings: RefCell::default(),
            flag_index,
            segment_index,
            targets: RefCell::default(),
            variants: RefCell::default(),
        }
    }

    /// The whole file; with `taken`, each flag's settings by flag, taken out
    /// of the model, each handed to the function once its flag is compiled.
    fn file(&self, warnings: Vec<Diagnostic>, taken: Option<Taken<'_>>) -> Compiled<CompiledFile> {
        let segments = self
            .file
            .segments
            .iter()
            .flatten()
            .map(|(key, s)| {
                Ok(CompiledSegment {
                    key: key.as_str().into(),
                    included: s.included.iter().flatten().map(|k| k.as_str().into()).collect(),
                    excluded: s.excluded.iter().flatten().map(|k| k.as_str().into()).collect(),
                    condition: s.matches.as_ref().map(|c| self.condition(c, key)).transpose()?,
                })
            })
            .collect::<Compiled<_>>()?;
        let mut flags = Vec::with_capacity(self.file.flags.len());
        let mut settings: Vec<Vec<Option<FlagEnv>>> =
            self.file.environments.iter().map(|_| Vec::with_capacity(self.file.flags.len())).collect();
        let (mut taken, mut free) = match taken {
            Some(Taken { settings, free }) => (Some(settings.into_iter()), Some(free)),
            None => (None, None),
        };
        for (key, flag) in &self.file.flags {
            let own = taken.as_mut().and_then(Iterator::next);
            let (compiled, envs) = self.flag(key, flag, own.as_ref().unwrap_or(&flag.environments))?;
            if let (Some(own), Some(free)) = (own, free.as_mut()) {
                free(own);
            }
            flags.push(compiled);
            for (table, env) in settings.iter_mut().zip(envs) {
                table.push(env);
            }
        }
        let flag_index = self.file.flags.keys().enumerate().map(|(i, k)| (k.as_str().into(), FlagId(i))).collect();
        let targets = self
            .targets
            .take()
            .into_iter()
            .map(|(key, targets)| match targets[..] {
                [one] => (key, Targets::One(one)),
                _ => (key, Targets::Many(targets.into_boxed_slice())),
            })
            .collect();
        Ok(CompiledFile {
            environments: self.file.environments.iter().map(|e| e.as_str().into()).collect(),
            flags,
            settings,
            variants: self.variants.take(),
            flag_index,
            segments,
            targets,
            warnings,
        })
    }

    /// The flag, and its settings in each environment (by [`EnvId`]).
    fn flag(&self, key: &str, flag: &Flag, settings: &Settings) -> Compiled<(CompiledFlag, Vec<Option<FlagEnv>>)> {
        let variant = |name: &str| flag.variants.get_index_of(name).ok_or_else(|| internal("a variant reference"));
        let id = FlagId(*self.flag_index.get(key).ok_or_else(|| internal("a flag key"))?);
        let mut environments = Vec::with_capacity(self.file.environments.len());
        for (env_index, env) in self.file.environments.iter().enumerate() {
            let Some(fe) = settings.get(env) else {
                environments.push(None);
                continue;
            };
            let prerequisites = fe
                .prerequisites
                .iter()
                .flatten()
                .map(|p| {
                    let id = *self.flag_index.get(p.flag.as_str()).ok_or_else(|| internal("a prerequisite"))?;
                    let other = &self.file.flags[id];
                    let variants = p
                        .variants
                        .iter()
                        .map(|v| other.variants.get_index_of(v).ok_or_else(|| internal("a prerequisite variant")))
                        .collect::<Compiled<_>>()?;
                    Ok(Prerequisite { flag: FlagId(id), variants })
                })
                .collect::<Compiled<Vec<_>>>()?;
            let mut has_targets = false;
            for (v, keys) in fe.targets.iter().flatten() {
                let target = Target { flag: id.0 as u32, env: env_index as u32, variant: variant(v)? as u32 };
                let mut targets = self.targets.borrow_mut();
                for k in keys {
                    has_targets = true;
                    match targets.get_mut(k.as_str()) {
                        Some(list) => list.push(target),
                        None => {
                            targets.insert(k.as_str().into(), vec![target]);
                        }
                    }
                }
            }
            let rules = fe
                .rules
                .iter()
                .flatten()
                .map(|r| {
                    Ok(CompiledRule {
                        id: self.intern(&r.id),
                        segment: r.segment.as_deref().map(|s| self.segment(s)).transpose()?,
                        condition: r.matches.as_ref().map(|c| self.condition(c, key)).transpose()?,
                        serve: self.serve(&r.serve, key, &variant)?,
                    })
                })
                .collect::<Compiled<Vec<_>>>()?;
            let default = self.serve(&fe.default, key, &variant)?;
            let is_static =
                !has_targets && rules.is_empty() && prerequisites.is_empty() && matches!(fe.default, Serve::Variant(_));
            environments.push(Some(FlagEnv {
                enabled: fe.enabled,
                prerequisites: prerequisites.into(),
                has_targets,
                rules: rules.into(),
                default,
                is_static,
            }));
        }
        let mut variants = self.variants.borrow_mut();
        let first_variant = variants.len();
        variants.extend(flag.variants.iter().map(|(k, v)| CompiledVariant {
            key: k.as_str().into(),
            value: v.clone(),
            json: v.to_string().into(),
        }));
        let compiled = CompiledFlag {
            key: key.into(),
            stage: flag.stage.as_deref().map(Into::into),
            first_variant,
            off: variant(&flag.off)?,
        };
        Ok((compiled, environments))
    }

    fn serve(
        &self,
        serve: &Serve,
        flag_key: &str,
        variant: &dyn Fn(&str) -> Compiled<usize>,
    ) -> Compiled<CompiledServe> {
        Ok(match serve {
            Serve::Variant(v) => CompiledServe::Variant(variant(v)?),
            Serve::Rollout(r) => {
                let mut end = 0;
                let mut ranges = Vec::with_capacity(r.entries.len());
                let mut certain = None;
                for e in &r.entries {
                    let milli = Weight::from_number(&e.weight).map_err(|_| internal("a weight"))?.thousandths();
                    let v = variant(&e.variant)?;
                    if milli == Weight::ALL.thousandths() {
                        certain = Some(v as u32);
                    }
                    end += milli;
                    ranges.push((end, v as u32));
                }
                CompiledServe::Rollout(Box::new(RolloutServe {
                    ranges: ranges.into(),
                    certain,
                    bucket_by: self.intern(r.bucket_by.as_deref().unwrap_or(TARGETING_KEY)),
                    bucket_by_head: path_head(r.bucket_by.as_deref().unwrap_or(TARGETING_KEY)),
                    salt: self.intern(r.salt.as_deref().unwrap_or(flag_key)),
                }))
            }
        })
    }

    fn intern(&self, s: &str) -> Arc<str> {
        let mut strings = self.strings.borrow_mut();
        if let Some(shared) = strings.get(s) {
            return shared.clone();
        }
        let shared: Arc<str> = s.into();
        strings.insert(shared.clone());
        shared
    }

    fn segment(&self, key: &str) -> Compiled<usize> {
        self.segment_index.get(key).copied().ok_or_else(|| internal("a segment reference"))
    }

    fn condition(&self, c: &Condition, salt: &str) -> Compiled<Cond> {
        let children = |cs: &[Condition]| cs.iter().map(|c| self.condition(c, salt)).collect::<Compiled<Box<[_]>>>();
        Ok(match c {
            Condition::All(cs) => Cond::All(children(cs)?),
            Condition::Any(cs) => Cond::Any(children(cs)?),
            Condition::None(cs) => Cond::None(children(cs)?),
            Condition::Segment(s) => Cond::Segment(self.segment(s)?),
            Condition::Leaf(leaf) => {
                use crate::model::Op;
                let test = ops::compile_test(leaf.op, &leaf.values, salt).map_err(|_| internal("a leaf"))?;
                let kind = match leaf.op {
                    Op::NotIn | Op::NotContains => LeafKind::Negated,
                    Op::Exists => LeafKind::Exists,
                    Op::NotExists => LeafKind::NotExists,
                    _ => LeafKind::Positive,
                };
                Cond::Leaf(Box::new(CompiledLeaf {
                    attribute: self.intern(&leaf.attribute),
                    attribute_head: path_head(&leaf.attribute),
                    test,
                    kind,
                }))
            }
        })
    }
}

impl CompiledFile {
    /// The warnings found while validating the file (it had no errors).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The environment with this key.
    pub fn environment(&self, key: &str) -> Option<EnvId> {
        self.environments.iter().position(|e| &**e == key).map(EnvId)
    }

    /// The file's first environment, served when none is named.
    pub fn first_environment(&self) -> EnvId {
        EnvId(0)
    }

    /// The key of an environment.
    pub fn environment_key(&self, env: EnvId) -> &str {
        self.environments.get(env.0).map_or("", |e| e)
    }

    /// The environments' keys, in file order.
    pub fn environment_keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.environments.iter().map(|e| &**e)
    }

    /// The segment with this key.
    pub fn segment(&self, key: &str) -> Option<SegmentId> {
        self.segments.iter().position(|s| &*s.key == key).map(SegmentId)
    }

    /// The flag with this key.
    pub fn flag(&self, key: &str) -> Option<FlagId> {
        self.flag_index.get(key).copied()
    }

    /// Every flag, in file order.
    pub fn flag_ids(&self) -> impl ExactSizeIterator<Item = FlagId> {
        (0..self.flags.len()).map(FlagId)
    }

    /// The key of a flag.
    pub fn flag_key(&self, flag: FlagId) -> &str {
        self.flags.get(flag.0).map_or("", |f| &f.key)
    }

    /// How many flags the file has.
    pub fn flag_count(&self) -> usize {
        self.flags.len()
    }

    /// How many segments the file has.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
}
