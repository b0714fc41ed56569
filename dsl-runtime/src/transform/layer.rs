//! Building a wrapper's [`SystemMeta`] from its base's.
//!
//! [`crate::System::meta`] returns `&'static SystemMeta`, and a generic type cannot
//! own a static, so a transformer builds its metadata once per concrete type
//! (`Reliable<LockServ>`) with [`cached_meta`]. The helpers here copy the base's roles, handlers and invariants so that base
//! handlers keep their ids and footprints, then let the transformer add its
//! own fields, message kinds, timers and handlers after them.

use crate::meta::{
    FieldMeta, FieldSet, HandlerMeta, InvariantMeta, KindId, RoleId, RoleMeta, SystemMeta, TimerId,
    TriggerMeta,
};

pub use crate::meta::cached_meta;

/// Leaks a string built once per wrapper type.
pub fn leak_str(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Leaks a list built once per wrapper type.
pub fn leak_slice<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

/// A copy of a base field, optionally forced durable.
pub fn copy_field(f: &FieldMeta, force_durable: bool) -> FieldMeta {
    FieldMeta {
        name: f.name,
        ty: f.ty,
        init: f.init,
        durable: f.durable || force_durable,
    }
}

/// A copy of a base handler's metadata.
pub fn copy_handler(h: &HandlerMeta) -> HandlerMeta {
    HandlerMeta {
        role: h.role,
        trigger: h.trigger,
        name: h.name,
        reads: h.reads.clone(),
        writes: h.writes.clone(),
        sends: h.sends,
        emits: h.emits,
        sets: h.sets,
        chooses: h.chooses,
        hash: h.hash,
    }
}

/// A copy of a base invariant's metadata.
pub fn copy_invariant(i: &InvariantMeta) -> InvariantMeta {
    InvariantMeta {
        name: i.name,
        scope: i.scope,
        reads_fields: i.reads_fields,
        reads_network: i.reads_network,
        reads_trace: i.reads_trace,
        reads_history: i.reads_history,
        hash: i.hash,
    }
}

/// `list` with `extra` appended (skipping ones already present).
pub fn with_kinds(list: &'static [KindId], extra: &[KindId]) -> &'static [KindId] {
    if extra.iter().all(|k| list.contains(k)) {
        return list;
    }
    let mut v = list.to_vec();
    for k in extra {
        if !v.contains(k) {
            v.push(*k);
        }
    }
    leak_slice(v)
}

/// Every message kind the handlers of `role` may send.
pub fn kinds_sent_by(meta: &SystemMeta, role: RoleId) -> Vec<KindId> {
    let mut kinds: Vec<KindId> = meta
        .handlers_of(role)
        .flat_map(|(_, h)| h.sends.iter().copied())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// Every timer the handlers of `role` may set.
pub fn timers_set_by(meta: &SystemMeta, role: RoleId) -> Vec<TimerId> {
    let mut timers: Vec<TimerId> = meta
        .handlers_of(role)
        .flat_map(|(_, h)| h.sets.iter().copied())
        .collect();
    timers.sort_unstable();
    timers.dedup();
    timers
}

/// Every field of `role`.
pub fn all_fields(meta: &SystemMeta, role: RoleId) -> FieldSet {
    FieldSet::all(meta.roles[role].fields.len())
}

/// A wrapper's metadata under construction: starts as a copy of the base's
/// (roles, kinds, handlers and invariants at the same indices) and grows.
pub struct MetaBuilder {
    /// The wrapper's name, such as `Reliable<LockServ>`.
    pub name: &'static str,
    /// Per role: its name, view name, parameter and fields.
    pub roles: Vec<(
        &'static str,
        &'static str,
        Option<&'static str>,
        Vec<FieldMeta>,
    )>,
    /// Input variant names.
    pub inputs: &'static [&'static str],
    /// Output variant names.
    pub outputs: &'static [&'static str],
    /// Message kind names.
    pub messages: Vec<&'static str>,
    /// Timer names.
    pub timers: Vec<&'static str>,
    /// Handlers; the base's come first, at their own ids.
    pub handlers: Vec<HandlerMeta>,
    /// Invariants; the base's come first, at their own ids.
    pub invariants: Vec<InvariantMeta>,
    /// The base's source hash mixed with the wrapper's name.
    pub source_hash: u64,
    /// The base's config hash.
    pub config_hash: u64,
    /// Input, output and message hashes; [`MetaBuilder::build`] hashes
    /// the messages added by the wrapper's name and theirs.
    pub kind_hashes: (&'static [u64], &'static [u64], Vec<u64>),
}

impl MetaBuilder {
    /// A copy of `base`, named `name`; with `durable`, every base field is
    /// marked durable.
    pub fn from_base(name: String, base: &SystemMeta, durable: bool) -> Self {
        MetaBuilder {
            roles: base
                .roles
                .iter()
                .map(|r| {
                    let fields = r.fields.iter().map(|f| copy_field(f, durable)).collect();
                    (r.name, r.view, r.param, fields)
                })
                .collect(),
            inputs: base.inputs,
            outputs: base.outputs,
            messages: base.messages.to_vec(),
            timers: base.timers.to_vec(),
            handlers: base.handlers.iter().map(copy_handler).collect(),
            invariants: base.invariants.iter().map(copy_invariant).collect(),
            source_hash: crate::meta::mix_hash(base.hashes.source, &name),
            config_hash: base.hashes.config,
            kind_hashes: (
                base.hashes.inputs,
                base.hashes.outputs,
                base.hashes.messages.to_vec(),
            ),
            name: leak_str(name),
        }
    }

    /// Adds a field to every role (after the base's fields and any added
    /// before); returns, per role, the set holding just the new field.
    pub fn add_field_to_all(
        &mut self,
        name: &'static str,
        ty: &'static str,
        durable: bool,
    ) -> Vec<FieldSet> {
        self.roles
            .iter_mut()
            .map(|(_, _, _, fields)| {
                fields.push(FieldMeta {
                    name,
                    ty,
                    init: "(added by the transformer)",
                    durable,
                });
                FieldSet::of([fields.len() - 1])
            })
            .collect()
    }

    /// Adds a handler; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn add_handler(
        &mut self,
        role: RoleId,
        trigger: TriggerMeta,
        name: String,
        reads: FieldSet,
        writes: FieldSet,
        sends: Vec<KindId>,
        sets: Vec<TimerId>,
    ) -> usize {
        let hash = crate::meta::mix_hash(self.source_hash, &name);
        self.handlers.push(HandlerMeta {
            role,
            trigger,
            name: leak_str(name),
            reads: reads.minus(&writes),
            writes,
            sends: leak_slice(sends),
            emits: &[],
            hash,
            sets: leak_slice(sets),
            chooses: false,
        });
        self.handlers.len() - 1
    }

    /// The finished metadata.
    pub fn build(mut self) -> SystemMeta {
        // Message kinds the wrapper added are hashed by its name and theirs.
        for added in &self.messages[self.kind_hashes.2.len()..] {
            let hash = crate::meta::mix_hash(self.source_hash, added);
            self.kind_hashes.2.push(hash);
        }
        let roles = self
            .roles
            .into_iter()
            .map(|(name, view, param, fields)| RoleMeta {
                name,
                view,
                param,
                fields: leak_slice(fields),
            })
            .collect();
        SystemMeta {
            name: self.name,
            roles: leak_slice(roles),
            inputs: self.inputs,
            outputs: self.outputs,
            messages: leak_slice(self.messages),
            timers: leak_slice(self.timers),
            handlers: leak_slice(self.handlers),
            invariants: leak_slice(self.invariants),
            hashes: crate::meta::SystemHashes {
                source: self.source_hash,
                config: self.config_hash,
                inputs: self.kind_hashes.0,
                outputs: self.kind_hashes.1,
                messages: leak_slice(self.kind_hashes.2),
            },
        }
    }
}

/// The traits a `system!` type has (`Clone`, `Copy`, `Debug`, `Default`,
/// comparisons, `Hash`), for a transformer's marker type, whatever its
/// parameters: reports and outcomes that print or compare the system type
/// then work for wrapped systems too.
macro_rules! marker_traits {
    ($name:ident < $($p:ident),+ >) => {
        impl<$($p),+> Clone for $name<$($p),+> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<$($p),+> Copy for $name<$($p),+> {}
        impl<$($p),+> Default for $name<$($p),+> {
            fn default() -> Self {
                $name(std::marker::PhantomData)
            }
        }
        impl<$($p),+> std::fmt::Debug for $name<$($p),+> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
        impl<$($p),+> PartialEq for $name<$($p),+> {
            fn eq(&self, _: &Self) -> bool {
                true
            }
        }
        impl<$($p),+> Eq for $name<$($p),+> {}
        impl<$($p),+> PartialOrd for $name<$($p),+> {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl<$($p),+> Ord for $name<$($p),+> {
            fn cmp(&self, _: &Self) -> std::cmp::Ordering {
                std::cmp::Ordering::Equal
            }
        }
        impl<$($p),+> std::hash::Hash for $name<$($p),+> {
            fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
        }
    };
}
pub(crate) use marker_traits;
