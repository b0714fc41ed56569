//! Footprint metadata: what the `system!` macro knows about a system,
//! available at run time.
//!
//! Tools read it to explain a system (roles, fields, handlers and what each
//! may touch) and the checker reads it to decide which invariants a step can
//! affect. Everything here is `'static` data emitted by the macro.

use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{OnceLock, PoisonError, RwLock};

/// Index of a role in [`SystemMeta::roles`].
pub type RoleId = usize;
/// Index of a handler in [`SystemMeta::handlers`].
pub type HandlerId = usize;
/// Index of an invariant in [`SystemMeta::invariants`].
pub type InvariantId = usize;
/// Index of a variant in one of the kinds lists ([`SystemMeta::inputs`] and so on).
pub type KindId = usize;
/// Index of a timer in [`SystemMeta::timers`].
pub type TimerId = usize;

/// A role of a system as a value: the `Role` enum `system!` generates
/// (`Role::Client`), so sizes, workloads and CLI flags name roles the
/// compiler knows, and a misspelled role is a compile error.
pub trait RoleEnum: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// Its index in [`SystemMeta::roles`].
    fn id(self) -> RoleId;
    /// Its name, as declared.
    fn name(self) -> &'static str;
}

/// A set of one role's state fields, by index in [`RoleMeta::fields`]: what
/// a handler reads or writes, what an invariant reads. Any number of fields
/// fits, so a wrapper that adds fields to a large base loses no footprint.
///
/// The macro writes these as static words; transformers and tools build
/// them from field indices ([`FieldSet::of`]), never by hand-typed bits.
#[derive(Clone, Default)]
pub struct FieldSet(Cow<'static, [u64]>);

impl FieldSet {
    /// No field.
    pub const EMPTY: FieldSet = FieldSet(Cow::Borrowed(&[]));

    /// Used by generated code: field `i` is bit `i % 64` of word `i / 64`.
    #[doc(hidden)]
    pub const fn from_words(words: &'static [u64]) -> Self {
        FieldSet(Cow::Borrowed(words))
    }

    /// The fields with these indices.
    pub fn of(fields: impl IntoIterator<Item = usize>) -> Self {
        let mut set = FieldSet::EMPTY;
        for f in fields {
            set.insert(f);
        }
        set
    }

    /// Fields `0..count`: every field of a role with `count` fields.
    pub fn all(count: usize) -> Self {
        FieldSet::of(0..count)
    }

    /// Whether field `field` is in the set.
    pub fn contains(&self, field: usize) -> bool {
        self.0
            .get(field / 64)
            .is_some_and(|w| w & (1 << (field % 64)) != 0)
    }

    /// Adds field `field`.
    pub fn insert(&mut self, field: usize) {
        let words = self.0.to_mut();
        if words.len() <= field / 64 {
            words.resize(field / 64 + 1, 0);
        }
        words[field / 64] |= 1 << (field % 64);
    }

    /// The fields in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.extend(other);
        out
    }

    /// Adds every field of `other`.
    pub fn extend(&mut self, other: &FieldSet) {
        for f in other.iter() {
            self.insert(f);
        }
    }

    /// The fields in `self` and not in `other`.
    pub fn minus(&self, other: &FieldSet) -> FieldSet {
        FieldSet::of(self.iter().filter(|&f| !other.contains(f)))
    }

    /// Whether the two sets share a field.
    pub fn intersects(&self, other: &FieldSet) -> bool {
        self.0.iter().zip(other.0.iter()).any(|(a, b)| a & b != 0)
    }

    /// Whether every field of `self` is in `other`.
    pub fn is_subset(&self, other: &FieldSet) -> bool {
        self.iter().all(|f| other.contains(f))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// How many fields the set holds.
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The field indices, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            (0..64)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| i * 64 + b)
        })
    }

    /// The words without trailing zeros, which equal sets share.
    fn words(&self) -> &[u64] {
        let end = self.0.iter().rposition(|w| *w != 0).map_or(0, |i| i + 1);
        &self.0[..end]
    }
}

impl PartialEq for FieldSet {
    fn eq(&self, other: &Self) -> bool {
        self.words() == other.words()
    }
}

impl Eq for FieldSet {}

impl Hash for FieldSet {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.words().hash(state);
    }
}

impl fmt::Debug for FieldSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<usize> for FieldSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        FieldSet::of(iter)
    }
}

/// A whole system as declared in `system!`.
#[derive(Debug)]
pub struct SystemMeta {
    /// The system's name, as written after `system`.
    pub name: &'static str,
    /// Node roles in declaration order; node indices follow this order.
    pub roles: &'static [RoleMeta],
    /// Variants of the external input type.
    pub inputs: &'static [&'static str],
    /// Variants of the external output type.
    pub outputs: &'static [&'static str],
    /// Variants of the network message type.
    pub messages: &'static [&'static str],
    /// Named timers.
    pub timers: &'static [&'static str],
    /// Every handler of every role.
    pub handlers: &'static [HandlerMeta],
    /// Every invariant: global, local and trace.
    pub invariants: &'static [InvariantMeta],
    /// Hashes of the declarations the fields above do not spell out.
    pub hashes: SystemHashes,
}

/// Stable hashes of a system's declarations (64-bit FNV-1a of their tokens'
/// string form, see [`text_hash`]), which change when the text does and not
/// when code is moved or reformatted: what `impact` and `check --cache`
/// compare builds by.
#[derive(Debug, Clone, Copy)]
pub struct SystemHashes {
    /// The whole `system!` invocation (for a wrapper: its base's, mixed
    /// with the wrapper's name).
    pub source: u64,
    /// The `config { .. }` section.
    pub config: u64,
    /// Per input variant, its payload's declaration.
    pub inputs: &'static [u64],
    /// Per output variant, its payload's declaration.
    pub outputs: &'static [u64],
    /// Per message variant, its payload's declaration.
    pub messages: &'static [u64],
}

impl SystemHashes {
    /// No declarations hashed: for metadata written by hand.
    pub const NONE: SystemHashes = SystemHashes {
        source: 0,
        config: 0,
        inputs: &[],
        outputs: &[],
        messages: &[],
    };
}

/// 64-bit FNV-1a of `text` followed by a 0xff separator: the hash the macro
/// computes for declarations, for metadata that wrappers add.
pub const fn text_hash(text: &str) -> u64 {
    mix_hash(0xcbf2_9ce4_8422_2325, text)
}

/// Continues the FNV-1a hash `hash` with `text` and a 0xff separator.
pub const fn mix_hash(mut hash: u64, text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i <= bytes.len() {
        let b = if i < bytes.len() { bytes[i] } else { 0xff };
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// One node role, such as `Server` or `Client(u8)`.
#[derive(Debug)]
pub struct RoleMeta {
    /// The role's name.
    pub name: &'static str,
    /// The name invariants see its nodes by (`self.client` for `Client`),
    /// which printed invariants must use.
    pub view: &'static str,
    /// The parameter type of a parameterised role (`Some("u8")` for `Client(u8)`).
    pub param: Option<&'static str>,
    /// State fields in declaration order; a field's index is its number in
    /// every [`FieldSet`] of the role.
    pub fields: &'static [FieldMeta],
}

/// One state field of a role.
#[derive(Debug)]
pub struct FieldMeta {
    /// Field name.
    pub name: &'static str,
    /// The field's type, as written.
    pub ty: &'static str,
    /// The initial value expression, as written.
    pub init: &'static str,
    /// Whether the field survives a crash (`#[durable]`).
    pub durable: bool,
}

/// What event a handler runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerMeta {
    /// Once per node when the system starts (not after a restart).
    Start,
    /// An external input of the given variant.
    Input(KindId),
    /// A network message of the given variant.
    Message(KindId),
    /// A named timer firing.
    Timer(TimerId),
    /// The node coming back after a crash.
    Restart,
}

/// One handler and its declared footprint.
#[derive(Debug)]
pub struct HandlerMeta {
    /// The role the handler belongs to.
    pub role: RoleId,
    /// The event it handles.
    pub trigger: TriggerMeta,
    /// A readable name such as `Server on message Lock`.
    pub name: &'static str,
    /// Fields of its role it may read but not write.
    pub reads: FieldSet,
    /// Fields it may write (and read).
    pub writes: FieldSet,
    /// Message variants it may send.
    pub sends: &'static [KindId],
    /// Output variants it may emit.
    pub emits: &'static [KindId],
    /// Timers it may set or cancel.
    pub sets: &'static [TimerId],
    /// Whether it may choose ([`crate::Ctx::choose`]): the checker then
    /// explores each of its steps once per answer.
    pub chooses: bool,
    /// Hash of its trigger, footprint and body ([`SystemHashes`]).
    pub hash: u64,
}

impl HandlerMeta {
    /// Every field the handler can observe.
    pub fn touches(&self) -> FieldSet {
        self.reads.union(&self.writes)
    }
}

/// Where an invariant applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvariantScope {
    /// Over the whole world: all nodes, the network and the trace.
    Global,
    /// Over one node of the given role; also usable as a runtime monitor.
    Local(RoleId),
    /// Over the trace of external inputs and outputs only.
    Trace,
}

/// One invariant and what it reads.
#[derive(Debug)]
pub struct InvariantMeta {
    /// Its name.
    pub name: &'static str,
    /// Where it applies.
    pub scope: InvariantScope,
    /// Fields read, per role.
    pub reads_fields: &'static [(RoleId, FieldSet)],
    /// Whether it reads the messages in flight.
    pub reads_network: bool,
    /// Whether it reads the trace of inputs and outputs, in order.
    pub reads_trace: bool,
    /// Whether it reads the history: the trace up to the order of adjacent
    /// inputs and of adjacent outputs (what linearizability depends on).
    pub reads_history: bool,
    /// Hash of its reads clause and body ([`SystemHashes`]).
    pub hash: u64,
}

impl SystemMeta {
    /// The handler ids of one role.
    pub fn handlers_of(&self, role: RoleId) -> impl Iterator<Item = (HandlerId, &HandlerMeta)> {
        self.handlers
            .iter()
            .enumerate()
            .filter(move |(_, h)| h.role == role)
    }

    /// The role with this name, if any.
    pub fn role_named(&self, name: &str) -> Option<RoleId> {
        self.roles.iter().position(|r| r.name == name)
    }

    /// Whether any invariant reads the trace or the history, so the
    /// checker must record it.
    pub fn needs_trace(&self) -> bool {
        self.invariants
            .iter()
            .any(|i| i.reads_trace || i.reads_history)
    }

    /// Whether the trace may be kept as a history: some invariant reads the
    /// history and none needs the exact order of the trace.
    pub fn history_suffices(&self) -> bool {
        self.invariants.iter().any(|i| i.reads_history)
            && !self.invariants.iter().any(|i| i.reads_trace)
    }

    /// Fields of `role` that do not survive a crash.
    pub fn volatile_fields(&self, role: RoleId) -> FieldSet {
        self.roles[role]
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.durable)
            .map(|(i, _)| i)
            .collect()
    }
}

impl fmt::Display for SystemMeta {
    /// A readable summary: roles, fields, handlers with footprints, invariants.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "system {}", self.name)?;
        for (r, role) in self.roles.iter().enumerate() {
            match role.param {
                Some(p) => writeln!(f, "  role {}({p})", role.name)?,
                None => writeln!(f, "  role {}", role.name)?,
            }
            for field in role.fields {
                let durable = if field.durable { "#[durable] " } else { "" };
                writeln!(
                    f,
                    "    {durable}{}: {} = {}",
                    field.name, field.ty, field.init
                )?;
            }
            for (_, h) in self.handlers_of(r) {
                writeln!(f, "    {}", self.describe_handler(h))?;
            }
        }
        for inv in self.invariants {
            let scope = match inv.scope {
                InvariantScope::Global => "global".to_string(),
                InvariantScope::Local(r) => format!("local to {}", self.roles[r].name),
                InvariantScope::Trace => "trace".to_string(),
            };
            writeln!(
                f,
                "  invariant {} ({scope}) reads({})",
                inv.name,
                self.describe_reads(inv)
            )?;
        }
        Ok(())
    }
}

impl SystemMeta {
    /// The names of the fields of `role` in `fields`.
    pub fn field_names(&self, role: RoleId, fields: &FieldSet) -> Vec<&'static str> {
        let all = self.roles[role].fields;
        fields
            .iter()
            .filter_map(|i| all.get(i).map(|f| f.name))
            .collect()
    }

    /// `on message Lock reads(..) writes(..) sends(..)` for one handler.
    pub fn describe_handler(&self, h: &HandlerMeta) -> String {
        let mut s = h.name.to_string();
        let mut clause = |word: &str, items: Vec<&str>| {
            if !items.is_empty() {
                s.push_str(&format!(" {word}({})", items.join(", ")));
            }
        };
        clause("reads", self.field_names(h.role, &h.reads));
        clause("writes", self.field_names(h.role, &h.writes));
        clause("sends", h.sends.iter().map(|&k| self.messages[k]).collect());
        clause("emits", h.emits.iter().map(|&k| self.outputs[k]).collect());
        clause("sets", h.sets.iter().map(|&t| self.timers[t]).collect());
        s
    }

    fn describe_reads(&self, inv: &InvariantMeta) -> String {
        let mut items: Vec<String> = Vec::new();
        for (role, fields) in inv.reads_fields {
            let role = *role;
            for name in self.field_names(role, fields) {
                match inv.scope {
                    InvariantScope::Local(_) => items.push(name.to_string()),
                    _ => items.push(format!("{}.{name}", self.roles[role].name)),
                }
            }
        }
        if inv.reads_network {
            items.push("network".into());
        }
        if inv.reads_trace {
            items.push("trace".into());
        }
        if inv.reads_history {
            items.push("history".into());
        }
        items.join(", ")
    }
}

type MetaCache = RwLock<HashMap<TypeId, &'static SystemMeta>>;

/// The metadata of system type `T`, built by `build` the first time it is
/// asked for and shared afterwards: how a generic system (a transformer
/// such as `Reliable<LockServ>`, or a generic `system!`) has metadata of
/// its own per instance, since a generic type cannot own a static.
///
/// `build` runs without the cache locked, because building a wrapper's
/// metadata asks for its base's, which may itself be a wrapper.
pub fn cached_meta<T: 'static>(build: impl FnOnce() -> SystemMeta) -> &'static SystemMeta {
    static CACHE: OnceLock<MetaCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = TypeId::of::<T>();
    if let Some(meta) = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return meta;
    }
    let built = build();
    let mut map = cache.write().unwrap_or_else(PoisonError::into_inner);
    // Two threads may both have built it; the first one stored wins.
    map.entry(key).or_insert_with(|| Box::leak(Box::new(built)))
}

/// A copy of `template` named after system type `T` (`PrimaryBackup<Store>`),
/// once per type: the metadata of one instance of a generic `system!`,
/// whose handlers, fields and invariants are the same for every instance.
pub fn instance_meta<T: 'static>(template: &'static SystemMeta) -> &'static SystemMeta {
    cached_meta::<T>(|| SystemMeta {
        name: Box::leak(short_type_name::<T>().into_boxed_str()),
        ..*template
    })
}

/// `Reliable<LockServ>` for `verdict::transform::Reliable<my_crate::LockServ>`:
/// the type's name with every path left out.
pub fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(&word));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(&word));
    out
}

/// A system with nothing declared but its name, for unit tests of what
/// reads metadata.
#[cfg(test)]
pub(crate) fn meta_named(name: &'static str) -> SystemMeta {
    SystemMeta {
        name,
        roles: &[],
        inputs: &[],
        outputs: &[],
        messages: &[],
        timers: &[],
        handlers: &[],
        invariants: &[],
        hashes: SystemHashes::NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct A;
    struct B;

    #[test]
    fn each_type_builds_once_and_gets_its_own_meta() {
        let a1 = cached_meta::<A>(|| meta_named("a"));
        let a2 = cached_meta::<A>(|| panic!("built twice"));
        let b = cached_meta::<B>(|| meta_named("b"));
        assert!(std::ptr::eq(a1, a2));
        assert_eq!(a1.name, "a");
        assert_eq!(b.name, "b");
    }

    #[test]
    fn building_may_ask_for_another_wrappers_meta() {
        struct Outer;
        struct Inner;
        let outer = cached_meta::<Outer>(|| {
            let inner = cached_meta::<Inner>(|| meta_named("inner"));
            meta_named(if inner.name == "inner" { "outer" } else { "?" })
        });
        assert_eq!(outer.name, "outer");
    }

    #[test]
    fn field_sets_have_no_size_limit_and_compare_by_content() {
        let mut big = FieldSet::of([0, 63, 64, 200]);
        assert!(big.contains(200) && big.contains(64) && !big.contains(65));
        assert_eq!(big.len(), 4);
        assert_eq!(big.iter().collect::<Vec<_>>(), [0, 63, 64, 200]);
        assert!(big.intersects(&FieldSet::of([200])));
        assert!(!big.intersects(&FieldSet::of([1, 199])));
        assert_eq!(big.minus(&FieldSet::of([64, 200])), FieldSet::of([0, 63]));
        // Trailing empty words do not make a set different.
        assert_eq!(FieldSet::from_words(&[1, 0, 0]), FieldSet::of([0]));
        big.extend(&FieldSet::all(2));
        assert_eq!(big.len(), 5);
        assert!(FieldSet::EMPTY.is_empty() && FieldSet::EMPTY.is_subset(&big));
    }

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(short_type_name::<A>(), "A");
        assert_eq!(
            short_type_name::<std::collections::BTreeMap<u8, Vec<A>>>(),
            "BTreeMap<u8, Vec<A>>"
        );
        let meta: &'static SystemMeta = Box::leak(Box::new(meta_named("B")));
        assert_eq!(instance_meta::<(A, B)>(meta).name, "(A, B)");
    }

    #[test]
    fn text_hashes_separate_their_pieces() {
        // FNV-1a of "a", 0xff: the value the macro's hash gives too.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in [b'a', 0xff] {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        assert_eq!(text_hash("a"), h);
        assert_ne!(mix_hash(text_hash("a"), "b"), text_hash("ab"));
        assert_ne!(text_hash(""), text_hash("a"));
    }
}

/// One `eventually` property as declared in `system!`: metadata of the
/// system, so it lives with the rest of it rather than in the liveness engine.
#[derive(Debug)]
pub struct EventuallyMeta {
    /// Its name.
    pub name: &'static str,
}
