//! Change impact: which invariants an edit can affect, by footprint.
//!
//! Two [`Description`]s (an old build's and the current one) are compared
//! by name. What differs is the *seed*: handlers added, removed or changed
//! (trigger, footprint or body), fields whose type, initial value or
//! durability changed, kinds whose payload changed, timers added or
//! removed, a changed workload. From the seed the analysis follows data
//! flow to a fixpoint: a handler that may behave differently taints what
//! it writes, sends, emits and sets (and, if it is itself changed, the
//! event it runs on); a handler that touches a tainted field, or runs on a
//! tainted message, timer or input, may then behave differently too. The
//! workload may wait for outputs, so a tainted output taints every input.
//!
//! An invariant whose body and reads are unchanged, and which reads no
//! tainted field, no network when a message kind is tainted, and no trace
//! or history when an input or output is tainted, is reported unaffected.
//! That is sound because handlers outside the closure touch only
//! untainted state, and a tainted handler changes only tainted state
//! beyond consuming its event, which happens in the same states in either
//! build: the reachable values of the untainted part are the same in both.
//!
//! What the macro cannot see is outside this argument: code called from a
//! handler but defined outside `system!` (helper functions, types of your
//! own), whose edits change no hash. A step that fails (a handler panics)
//! and a deadlock are verdicts of their own, which any changed handler may
//! change; the report says so.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::describe::{Description, FieldRef, HandlerDesc, InvariantDesc, TriggerDesc};

/// The result of [`compare`].
#[derive(Serialize, Debug, Clone, Default)]
pub struct Impact {
    /// What differs between the two builds.
    pub changes: Vec<Change>,
    /// A change that may alter every verdict (another tool version, a
    /// changed `config` section or role parameter), if any.
    pub everything: Option<String>,
    /// Handlers that may behave differently, with why.
    pub handlers: BTreeMap<String, String>,
    /// Fields whose reachable values may differ, with why (`Role.field`).
    pub fields: BTreeMap<String, String>,
    /// Message kinds whose messages in flight may differ, with why.
    pub messages: BTreeMap<String, String>,
    /// Output kinds whose emissions may differ, with why.
    pub outputs: BTreeMap<String, String>,
    /// Input kinds whose arrival may differ, with why.
    pub inputs: BTreeMap<String, String>,
    /// Timers whose settings may differ, with why.
    pub timers: BTreeMap<String, String>,
    /// Every invariant of the current build, affected or not, with the reason.
    pub invariants: Vec<InvariantImpact>,
    /// Invariants of the old build that are gone.
    pub removed_invariants: Vec<String>,
}

/// One difference between the builds.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `handler`, `invariant`, `role`, `field`, `input`, `output`,
    /// `message`, `timer`, `workload`, `config`, `tool` or `system`.
    pub what: String,
    /// Its name (`Server on message Lock`, `Server.held`, `Grant`).
    pub name: String,
    /// `added`, `removed` or what changed.
    pub how: String,
}

/// One invariant's verdict under the change.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct InvariantImpact {
    /// Its name.
    pub name: String,
    /// Whether its verdict may change.
    pub affected: bool,
    /// Why, in footprint terms.
    pub reason: String,
}

impl Impact {
    /// Whether the builds are the same as far as verdicts go.
    pub fn unchanged(&self) -> bool {
        self.changes.is_empty()
    }

    /// The invariants whose verdict may change.
    pub fn affected(&self) -> impl Iterator<Item = &InvariantImpact> {
        self.invariants.iter().filter(|i| i.affected)
    }

    /// The invariants the change cannot affect.
    pub fn unaffected(&self) -> impl Iterator<Item = &InvariantImpact> {
        self.invariants.iter().filter(|i| !i.affected)
    }

    /// Whether invariant `name` may change verdict (`None`: no such invariant).
    pub fn is_affected(&self, name: &str) -> Option<bool> {
        self.invariants
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.affected)
    }

    fn change(&mut self, what: &str, name: impl Into<String>, how: impl Into<String>) {
        self.changes.push(Change {
            what: what.to_string(),
            name: name.into(),
            how: how.into(),
        });
    }
}

/// What the change reaches, keyed like [`Impact`]'s maps.
#[derive(Default)]
struct Taint {
    fields: BTreeMap<String, String>,
    messages: BTreeMap<String, String>,
    outputs: BTreeMap<String, String>,
    inputs: BTreeMap<String, String>,
    timers: BTreeMap<String, String>,
}

impl Taint {
    fn add(map: &mut BTreeMap<String, String>, key: String, why: String) -> bool {
        if map.contains_key(&key) {
            return false;
        }
        map.insert(key, why);
        true
    }
}

/// A handler as both builds know it: the union of its two footprints.
struct Merged<'a> {
    name: &'a str,
    role: &'a str,
    triggers: Vec<&'a TriggerDesc>,
    touches: BTreeSet<&'a str>,
    writes: BTreeSet<&'a str>,
    sends: BTreeSet<&'a str>,
    emits: BTreeSet<&'a str>,
    sets: BTreeSet<&'a str>,
}

fn merge<'a>(versions: &[&'a HandlerDesc]) -> Merged<'a> {
    let mut m = Merged {
        name: &versions[0].name,
        role: &versions[0].role,
        triggers: Vec::new(),
        touches: BTreeSet::new(),
        writes: BTreeSet::new(),
        sends: BTreeSet::new(),
        emits: BTreeSet::new(),
        sets: BTreeSet::new(),
    };
    for h in versions {
        if !m.triggers.contains(&&h.trigger) {
            m.triggers.push(&h.trigger);
        }
        m.touches
            .extend(h.reads.iter().chain(&h.writes).map(String::as_str));
        m.writes.extend(h.writes.iter().map(String::as_str));
        m.sends.extend(h.sends.iter().map(String::as_str));
        m.emits.extend(h.emits.iter().map(String::as_str));
        m.sets.extend(h.sets.iter().map(String::as_str));
    }
    m
}

fn field_key(role: &str, field: &str) -> String {
    format!("{role}.{field}")
}

/// Compares an old build's description with the current one's.
pub fn compare(old: &Description, new: &Description) -> Impact {
    let mut impact = Impact::default();
    let mut taint = Taint::default();
    whole_system_changes(old, new, &mut impact);
    field_changes(old, new, &mut impact, &mut taint);
    kind_changes(old, new, &mut impact, &mut taint);
    if old.workload != new.workload {
        impact.change("workload", "workload", "the checked workload differs");
        for k in old.inputs.iter().chain(&new.inputs) {
            Taint::add(
                &mut taint.inputs,
                k.name.clone(),
                "the workload changed".into(),
            );
        }
    }

    // Handlers by name, with the versions each build has.
    let mut by_name: BTreeMap<&str, (Option<&HandlerDesc>, Option<&HandlerDesc>)> = BTreeMap::new();
    for h in &old.handlers {
        by_name.entry(&h.name).or_default().0 = Some(h);
    }
    for h in &new.handlers {
        by_name.entry(&h.name).or_default().1 = Some(h);
    }
    let mut merged = Vec::new();
    let mut seeds: BTreeMap<&str, String> = BTreeMap::new();
    for (name, versions) in &by_name {
        let how = match versions {
            (None, Some(_)) => Some("added".to_string()),
            (Some(_), None) => Some("removed".to_string()),
            (Some(a), Some(b)) => handler_difference(a, b),
            (None, None) => None,
        };
        if let Some(how) = how {
            impact.change("handler", *name, how.clone());
            seeds.insert(name, how);
        }
        let list: Vec<&HandlerDesc> = [versions.0, versions.1].into_iter().flatten().collect();
        merged.push(merge(&list));
    }
    if let Some(why) = &impact.everything {
        for m in &merged {
            seeds
                .entry(m.name)
                .or_insert_with(|| format!("may behave differently: {why}"));
        }
    }

    // Data flow to a fixpoint.
    let mut tainted: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let mut grew = false;
        for m in &merged {
            if tainted.contains_key(m.name) {
                continue;
            }
            let why = match seeds.get(m.name) {
                Some(how) => Some(how.clone()),
                None => reached_by(m, &taint),
            };
            let Some(why) = why else { continue };
            tainted.insert(m.name.to_string(), why);
            grew = true;
            let by = |verb: &str| format!("{verb} by {}", m.name);
            for f in &m.writes {
                Taint::add(&mut taint.fields, field_key(m.role, f), by("written"));
            }
            for k in &m.sends {
                Taint::add(&mut taint.messages, k.to_string(), by("sent"));
            }
            for k in &m.emits {
                Taint::add(&mut taint.outputs, k.to_string(), by("emitted"));
            }
            for t in &m.sets {
                Taint::add(&mut taint.timers, t.to_string(), by("set"));
            }
            if seeds.contains_key(m.name) {
                // A changed handler may also consume its event differently.
                for t in &m.triggers {
                    let Some(k) = &t.name else { continue };
                    let map = match t.kind.as_str() {
                        "message" => &mut taint.messages,
                        "input" => &mut taint.inputs,
                        "timer" => &mut taint.timers,
                        _ => continue,
                    };
                    Taint::add(map, k.clone(), by("consumed"));
                }
            }
        }
        let waits = old.workload_waits || new.workload_waits;
        if let Some((kind, _)) = taint.outputs.iter().next().filter(|_| waits) {
            let why = format!("the workload may wait for outputs, and output {kind} may differ");
            for k in old.inputs.iter().chain(&new.inputs) {
                grew |= Taint::add(&mut taint.inputs, k.name.clone(), why.clone());
            }
        }
        if !grew {
            break;
        }
    }

    for inv in &new.invariants {
        let old_inv = old.invariants.iter().find(|i| i.name == inv.name);
        match old_inv {
            None => impact.change("invariant", &inv.name, "added"),
            Some(o) if o != inv => {
                impact.change("invariant", &inv.name, "its reads or body changed")
            }
            Some(_) => {}
        }
        let verdict = invariant_verdict(inv, old_inv, &impact, &taint);
        impact.invariants.push(verdict);
    }
    for inv in &old.invariants {
        if !new.invariants.iter().any(|i| i.name == inv.name) {
            impact.change("invariant", &inv.name, "removed");
            impact.removed_invariants.push(inv.name.clone());
        }
    }
    impact.handlers = tainted;
    impact.fields = taint.fields;
    impact.messages = taint.messages;
    impact.outputs = taint.outputs;
    impact.inputs = taint.inputs;
    impact.timers = taint.timers;
    impact
}

/// Changes that reach every verdict.
fn whole_system_changes(old: &Description, new: &Description, impact: &mut Impact) {
    let mut why = Vec::new();
    if old.tool != new.tool {
        impact.change("tool", "verdict", format!("{} -> {}", old.tool, new.tool));
        why.push(format!("the tool changed ({} -> {})", old.tool, new.tool));
    }
    if old.system != new.system {
        impact.change("system", &new.system, format!("was {}", old.system));
        why.push(format!("another system ({} -> {})", old.system, new.system));
    }
    if old.config_hash != new.config_hash {
        impact.change("config", "config", "the config section changed");
        why.push("the config section changed (handlers read it freely)".to_string());
    }
    for r in &new.roles {
        if let Some(o) = old.role(&r.name) {
            if o.param != r.param {
                impact.change("role", &r.name, "its parameter type changed");
                why.push(format!("role {}'s parameter type changed", r.name));
            }
        }
    }
    if !why.is_empty() {
        impact.everything = Some(why.join("; "));
    }
}

/// Roles and fields added, removed or changed (type, initial value,
/// durability): each such field is tainted.
fn field_changes(old: &Description, new: &Description, impact: &mut Impact, taint: &mut Taint) {
    for r in &new.roles {
        if old.role(&r.name).is_none() {
            impact.change("role", &r.name, "added");
        }
    }
    for r in &old.roles {
        if new.role(&r.name).is_none() {
            impact.change("role", &r.name, "removed");
        }
    }
    let mut keys: BTreeSet<(&str, &str)> = BTreeSet::new();
    for d in [old, new] {
        for r in &d.roles {
            keys.extend(r.fields.iter().map(|f| (r.name.as_str(), f.name.as_str())));
        }
    }
    for (role, field) in keys {
        let find = |d: &'_ Description| {
            d.role(role)
                .and_then(|r| r.fields.iter().find(|f| f.name == field))
                .cloned()
        };
        let how = match (find(old), find(new)) {
            (None, Some(_)) => "added".to_string(),
            (Some(_), None) => "removed".to_string(),
            (Some(a), Some(b)) if a != b => {
                let mut parts = Vec::new();
                if a.ty != b.ty {
                    parts.push(format!("type {} -> {}", a.ty, b.ty));
                }
                if a.init != b.init {
                    parts.push(format!("initial value {} -> {}", a.init, b.init));
                }
                if a.durable != b.durable {
                    parts.push(format!("durable {} -> {}", a.durable, b.durable));
                }
                parts.join(", ")
            }
            _ => continue,
        };
        let key = field_key(role, field);
        impact.change("field", &key, how.clone());
        Taint::add(&mut taint.fields, key, format!("declaration {how}"));
    }
}

/// Input, output and message variants added, removed or with a changed
/// payload, and timers added or removed: each is tainted.
fn kind_changes(old: &Description, new: &Description, impact: &mut Impact, taint: &mut Taint) {
    let lists = [
        ("input", &old.inputs, &new.inputs, &mut taint.inputs),
        ("output", &old.outputs, &new.outputs, &mut taint.outputs),
        ("message", &old.messages, &new.messages, &mut taint.messages),
    ];
    for (what, a, b, map) in lists {
        let names: BTreeSet<&str> = a.iter().chain(b.iter()).map(|k| k.name.as_str()).collect();
        for name in names {
            let find = |l: &Vec<super::describe::KindDesc>| {
                l.iter().find(|k| k.name == name).map(|k| k.hash.clone())
            };
            let how = match (find(a), find(b)) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                (Some(x), Some(y)) if x != y => "its payload changed",
                _ => continue,
            };
            impact.change(what, name, how);
            Taint::add(map, name.to_string(), format!("declaration {how}"));
        }
    }
    let timers: BTreeSet<&String> = old.timers.iter().chain(&new.timers).collect();
    for t in timers {
        let how = match (old.timers.contains(t), new.timers.contains(t)) {
            (false, true) => "added",
            (true, false) => "removed",
            _ => continue,
        };
        impact.change("timer", t, how);
        Taint::add(&mut taint.timers, t.clone(), format!("declaration {how}"));
    }
}

/// How two versions of a handler differ, if they do.
fn handler_difference(a: &HandlerDesc, b: &HandlerDesc) -> Option<String> {
    if a == b {
        return None;
    }
    let mut parts = Vec::new();
    let footprint = |h: &HandlerDesc| {
        (
            h.reads.clone(),
            h.writes.clone(),
            h.sends.clone(),
            h.emits.clone(),
            h.sets.clone(),
            h.chooses,
        )
    };
    if footprint(a) != footprint(b) {
        parts.push("footprint");
    }
    if a.role != b.role || a.trigger != b.trigger {
        parts.push("trigger");
    }
    if a.hash != b.hash {
        parts.push("code");
    }
    Some(format!("changed ({})", parts.join(", ")))
}

/// Why a handler not in the seed may behave differently, if it may.
fn reached_by(m: &Merged<'_>, taint: &Taint) -> Option<String> {
    for f in &m.touches {
        let key = field_key(m.role, f);
        if let Some(why) = taint.fields.get(&key) {
            return Some(format!("touches {key}, {why}"));
        }
    }
    for t in &m.triggers {
        let Some(k) = &t.name else { continue };
        let map = match t.kind.as_str() {
            "message" => &taint.messages,
            "input" => &taint.inputs,
            "timer" => &taint.timers,
            _ => continue,
        };
        if let Some(why) = map.get(k) {
            return Some(format!("runs on {} {k}, {why}", t.kind));
        }
    }
    None
}

fn invariant_verdict(
    inv: &InvariantDesc,
    old: Option<&InvariantDesc>,
    impact: &Impact,
    taint: &Taint,
) -> InvariantImpact {
    let verdict = |affected: bool, reason: String| InvariantImpact {
        name: inv.name.clone(),
        affected,
        reason,
    };
    match old {
        None => return verdict(true, "new invariant".into()),
        Some(o) if o != inv => return verdict(true, "its reads or body changed".into()),
        Some(_) => {}
    }
    if let Some(why) = &impact.everything {
        return verdict(true, why.clone());
    }
    for f in &inv.reads {
        let key = field_key(&f.role, &f.field);
        if let Some(why) = taint.fields.get(&key) {
            return verdict(true, format!("reads {key}, {why}"));
        }
    }
    if inv.network {
        if let Some((k, why)) = taint.messages.iter().next() {
            return verdict(true, format!("reads the network; message {k} {why}"));
        }
    }
    if inv.trace || inv.history {
        let what = if inv.trace { "trace" } else { "history" };
        if let Some((k, why)) = taint.outputs.iter().next() {
            return verdict(true, format!("reads the {what}; output {k} {why}"));
        }
        if let Some((k, why)) = taint.inputs.iter().next() {
            return verdict(true, format!("reads the {what}; input {k}: {why}"));
        }
    }
    let mut reads: Vec<String> = inv
        .reads
        .iter()
        .map(|FieldRef { role, field }| field_key(role, field))
        .collect();
    if inv.network {
        reads.push("the network (no message kind is reached)".into());
    }
    if inv.trace {
        reads.push("the trace (no input or output is reached)".into());
    }
    if inv.history {
        reads.push("the history (no input or output is reached)".into());
    }
    let reason = if reads.is_empty() {
        "reads no state".to_string()
    } else {
        format!(
            "unchanged, and reads only {}, which nothing changed reaches",
            reads.join(", ")
        )
    };
    verdict(false, reason)
}

impl std::fmt::Display for Impact {
    /// The human report `impact` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.unchanged() {
            return writeln!(f, "No change: every verdict stands.");
        }
        writeln!(f, "Changed:")?;
        for c in &self.changes {
            writeln!(f, "  {} {}: {}", c.what, c.name, c.how)?;
        }
        if let Some(why) = &self.everything {
            writeln!(f, "Every verdict may change: {why}.")?;
        }
        writeln!(f, "Reach of the change (data flow, to a fixpoint):")?;
        let sections = [
            ("handler", &self.handlers),
            ("field", &self.fields),
            ("message", &self.messages),
            ("output", &self.outputs),
            ("input", &self.inputs),
            ("timer", &self.timers),
        ];
        let mut any = false;
        for (what, map) in sections {
            for (name, why) in map {
                writeln!(f, "  {what} {name}: {why}")?;
                any = true;
            }
        }
        if !any {
            writeln!(f, "  nothing a handler or invariant uses")?;
        }
        let affected: Vec<&InvariantImpact> = self.affected().collect();
        let unaffected: Vec<&InvariantImpact> = self.unaffected().collect();
        writeln!(f, "Invariants whose verdict may change: {}", affected.len())?;
        for i in affected {
            writeln!(f, "  {}: {}", i.name, i.reason)?;
        }
        writeln!(
            f,
            "Invariants the change cannot affect: {}",
            unaffected.len()
        )?;
        for i in unaffected {
            writeln!(f, "  {}: {}", i.name, i.reason)?;
        }
        for name in &self.removed_invariants {
            writeln!(f, "Removed invariant: {name}")?;
        }
        if !self.handlers.is_empty() {
            writeln!(
                f,
                "Note: handlers changed, so steps that fail (a handler panics), deadlocks and \
                 `eventually` properties may change too; `check` re-checks them."
            )?;
        }
        Ok(())
    }
}
