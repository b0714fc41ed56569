//! Footprint metadata: what the `system!` macro knows about a system,
//! available at run time.
//!
//! Tools read it to explain a system (roles, fields, handlers and what each
//! may touch) and the checker reads it to decide which invariants a step can
//! affect. Everything here is `'static` data emitted by the macro.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
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
}

/// One node role, such as `Server` or `Client(u8)`.
#[derive(Debug)]
pub struct RoleMeta {
    /// The role's name.
    pub name: &'static str,
    /// The parameter type of a parameterised role (`Some("u8")` for `Client(u8)`).
    pub param: Option<&'static str>,
    /// State fields in declaration order; a field's index is its bit in masks.
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
    /// Fields it may read but not write (bit `i` = field `i` of its role).
    pub reads: u64,
    /// Fields it may write (and read).
    pub writes: u64,
    /// Message variants it may send.
    pub sends: &'static [KindId],
    /// Output variants it may emit.
    pub emits: &'static [KindId],
    /// Timers it may set or cancel.
    pub sets: &'static [TimerId],
}

impl HandlerMeta {
    /// Every field the handler can observe.
    pub fn touches(&self) -> u64 {
        self.reads | self.writes
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
    /// Fields read, per role: `(role, mask)`.
    pub reads_fields: &'static [(RoleId, u64)],
    /// Whether it reads the messages in flight.
    pub reads_network: bool,
    /// Whether it reads the trace of inputs and outputs, in order.
    pub reads_trace: bool,
    /// Whether it reads the history: the trace up to the order of adjacent
    /// inputs and of adjacent outputs (what linearizability depends on).
    pub reads_history: bool,
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
    pub fn volatile_mask(&self, role: RoleId) -> u64 {
        self.roles[role]
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.durable)
            .fold(0, |m, (i, _)| m | (1 << i))
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
    fn field_names(&self, role: RoleId, mask: u64) -> Vec<&'static str> {
        self.roles[role]
            .fields
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, f)| f.name)
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
        clause("reads", self.field_names(h.role, h.reads));
        clause("writes", self.field_names(h.role, h.writes));
        clause("sends", h.sends.iter().map(|&k| self.messages[k]).collect());
        clause("emits", h.emits.iter().map(|&k| self.outputs[k]).collect());
        clause("sets", h.sets.iter().map(|&t| self.timers[t]).collect());
        s
    }

    fn describe_reads(&self, inv: &InvariantMeta) -> String {
        let mut items: Vec<String> = Vec::new();
        for &(role, mask) in inv.reads_fields {
            for name in self.field_names(role, mask) {
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

#[cfg(test)]
mod tests {
    use super::*;

    struct A;
    struct B;

    fn meta_named(name: &'static str) -> SystemMeta {
        SystemMeta {
            name,
            roles: &[],
            inputs: &[],
            outputs: &[],
            messages: &[],
            timers: &[],
            handlers: &[],
            invariants: &[],
        }
    }

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
    fn type_names_lose_their_paths() {
        assert_eq!(short_type_name::<A>(), "A");
        assert_eq!(
            short_type_name::<std::collections::BTreeMap<u8, Vec<A>>>(),
            "BTreeMap<u8, Vec<A>>"
        );
        let meta: &'static SystemMeta = Box::leak(Box::new(meta_named("B")));
        assert_eq!(instance_meta::<(A, B)>(meta).name, "(A, B)");
    }
}
