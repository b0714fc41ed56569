//! Observations: each state field broken into small values a template can
//! compare — a boolean, an integer, an option's content, a sequence's
//! length and ends, a set's members.
//!
//! `system!` generates [`crate::System::observe`] from these impls: a field
//! whose type implements [`Observe`] gives its parts, any other field one
//! [`Value::Text`], its `Debug` text. Each atom carries the Rust expression
//! that reads it in an invariant's view, so inferred invariants print as
//! code that compiles against the same fields.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Debug;

/// A small value a template compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A value by its `Debug` text (an enum variant, a node, ...).
    Text(String),
    /// An empty option, or the end of an empty sequence.
    Absent,
    /// The members of a set or sequence, by `Debug` text, sorted.
    Members(Vec<String>),
}

/// How an atom's Rust expression yields its value, which decides how a
/// comparison with it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// `&bool`: compare as `*x`.
    Bool,
    /// `&integer` or a `usize` length: compare as `*x == k` (`x == k`).
    Int,
    /// A length, `usize` by value.
    Len,
    /// `Option<&T>`: `x.is_none()`, `x == Some(&n)`.
    Opt,
    /// `&T` compared by equality or `Debug` text.
    Plain,
    /// Something with `.contains(&n)`.
    Members,
    /// A map: `.contains_key(&n)`.
    Keys,
}

/// One observed part of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    /// The field's index in its role.
    pub field: usize,
    /// Which part: `""` (the whole field), `len`, `first`, `last`, `members`.
    pub part: &'static str,
    /// The expression reading it from the field, `{}` standing for the
    /// field in a view (a reference).
    pub expr: &'static str,
    /// How that expression yields the value.
    pub shape: Shape,
    /// The value.
    pub value: Value,
}

/// A field type that breaks into parts. Types without an impl are observed
/// whole by their `Debug` text.
pub trait Observe {
    /// Pushes the parts of `self`, field number `field`, onto `out`.
    fn observe(&self, field: usize, out: &mut Vec<Atom>);
}

fn atom(field: usize, part: &'static str, expr: &'static str, shape: Shape, value: Value) -> Atom {
    Atom {
        field,
        part,
        expr,
        shape,
        value,
    }
}

impl Observe for bool {
    fn observe(&self, field: usize, out: &mut Vec<Atom>) {
        out.push(atom(field, "", "{}", Shape::Bool, Value::Bool(*self)));
    }
}

macro_rules! observe_int {
    ($($t:ty),*) => {$(
        impl Observe for $t {
            fn observe(&self, field: usize, out: &mut Vec<Atom>) {
                let v = i64::try_from(*self).unwrap_or(i64::MAX);
                out.push(atom(field, "", "{}", Shape::Int, Value::Int(v)));
            }
        }
    )*};
}
observe_int!(u8, u16, u32, u64, usize, i8, i16, i32, i64);

fn text_or_absent<T: Debug>(x: Option<&T>) -> Value {
    x.map_or(Value::Absent, |v| Value::Text(format!("{v:?}")))
}

fn members<'a, T: Debug + 'a>(items: impl Iterator<Item = &'a T>) -> Value {
    let mut m: Vec<String> = items.map(|x| format!("{x:?}")).collect();
    m.sort();
    m.dedup();
    Value::Members(m)
}

fn len(n: usize) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

impl<T: Debug> Observe for Option<T> {
    fn observe(&self, field: usize, out: &mut Vec<Atom>) {
        out.push(atom(
            field,
            "",
            "{}.as_ref()",
            Shape::Opt,
            text_or_absent(self.as_ref()),
        ));
    }
}

/// A collection's atoms: its length, its ends when it is a sequence (with
/// the expressions that read them: `front`/`back` or `first`/`last`), and
/// its members.
fn collection<'a, T: Debug + 'a>(
    field: usize,
    out: &mut Vec<Atom>,
    items: impl ExactSizeIterator<Item = &'a T> + DoubleEndedIterator + Clone,
    ends: Option<(&'static str, &'static str)>,
) {
    out.push(atom(field, "len", "{}.len()", Shape::Len, len(items.len())));
    if let Some((first, last)) = ends {
        let (front, back) = (items.clone().next(), items.clone().next_back());
        out.push(atom(
            field,
            "first",
            first,
            Shape::Opt,
            text_or_absent(front),
        ));
        out.push(atom(field, "last", last, Shape::Opt, text_or_absent(back)));
    }
    out.push(atom(field, "members", "{}", Shape::Members, members(items)));
}

impl<T: Debug> Observe for VecDeque<T> {
    fn observe(&self, field: usize, out: &mut Vec<Atom>) {
        collection(field, out, self.iter(), Some(("{}.front()", "{}.back()")));
    }
}

impl<T: Debug> Observe for Vec<T> {
    fn observe(&self, field: usize, out: &mut Vec<Atom>) {
        collection(field, out, self.iter(), Some(("{}.first()", "{}.last()")));
    }
}

impl<T: Debug> Observe for BTreeSet<T> {
    fn observe(&self, field: usize, out: &mut Vec<Atom>) {
        collection(field, out, self.iter(), None);
    }
}

impl<K: Debug, V> Observe for BTreeMap<K, V> {
    fn observe(&self, field: usize, out: &mut Vec<Atom>) {
        out.push(atom(field, "len", "{}.len()", Shape::Len, len(self.len())));
        out.push(atom(field, "keys", "{}", Shape::Keys, members(self.keys())));
    }
}

/// Used by generated code: a field, probed for the best way to observe it
/// (autoref specialisation: [`ByParts`] when its type implements
/// [`Observe`], else [`ByDebug`]).
#[doc(hidden)]
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Observes a field through its [`Observe`] impl.
#[doc(hidden)]
pub trait ByParts {
    /// Pushes the field's atoms.
    fn observe_field(&self, field: usize, out: &mut Vec<Atom>);
}

impl<T: Observe + ?Sized> ByParts for Probe<'_, T> {
    fn observe_field(&self, field: usize, out: &mut Vec<Atom>) {
        self.0.observe(field, out);
    }
}

/// Observes a field whole, by its `Debug` text.
#[doc(hidden)]
pub trait ByDebug {
    /// Pushes the field's one atom.
    fn observe_field(&self, field: usize, out: &mut Vec<Atom>);
}

impl<T: Debug + ?Sized> ByDebug for &Probe<'_, T> {
    fn observe_field(&self, field: usize, out: &mut Vec<Atom>) {
        out.push(atom(
            field,
            "",
            "{}",
            Shape::Plain,
            Value::Text(format!("{:?}", self.0)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum Phase {
        Ready,
    }

    // The borrow is what picks the impl, as in generated code.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn known_types_break_into_parts_and_others_are_debug_text() {
        let mut out = Vec::new();
        (&Probe(&true)).observe_field(0, &mut out);
        (&Probe(&VecDeque::from([3u8, 1]))).observe_field(1, &mut out);
        (&Probe(&Phase::Ready)).observe_field(2, &mut out);
        (&Probe(&Some(Phase::Ready))).observe_field(3, &mut out);
        let values: Vec<(usize, &str, &Value)> =
            out.iter().map(|a| (a.field, a.part, &a.value)).collect();
        assert_eq!(values[0], (0, "", &Value::Bool(true)));
        assert!(values.contains(&(1, "first", &Value::Text("3".into()))));
        assert!(values.contains(&(1, "members", &Value::Members(vec!["1".into(), "3".into()]))));
        assert!(values.contains(&(2, "", &Value::Text("Ready".into()))));
        assert!(values.contains(&(3, "", &Value::Text("Ready".into()))));
    }
}
