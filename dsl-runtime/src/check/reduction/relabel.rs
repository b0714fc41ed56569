//! Renaming node ids inside values, for symmetry reduction.
//!
//! Symmetry reduction treats two worlds that differ only by a permutation of
//! the nodes of one role as the same state. To put a world into its
//! canonical form, every node id stored anywhere in it (states, messages,
//! inputs, outputs) is renamed. [`Relabel`] does that for one value; the
//! `system!` macro implements it for the generated node type and calls it on
//! every field. Standard containers, tuples, options and primitives are
//! covered here. A field type without an implementation does not stop the
//! system from compiling: symmetry is then switched off for it with a note
//! naming the field (see `__probe`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Renames the node ids a value holds with `map`.
///
/// Implement it for your own field types that hold node ids; for types that
/// hold none, [`relabel_nothing!`](crate::relabel_nothing) implements it as a no-op.
pub trait Relabel<N> {
    /// Replaces each node id `n` inside `self` by `map(n)`.
    fn relabel(&mut self, map: &dyn Fn(N) -> N);
}

/// Implements [`Relabel`] as a no-op for types that hold no node ids, so
/// fields of these types do not switch symmetry reduction off.
///
/// ```
/// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
/// pub struct Ballot(u32);
/// verdict::relabel_nothing!(Ballot);
/// ```
#[macro_export]
macro_rules! relabel_nothing {
    ($($t:ty),* $(,)?) => {
        $(impl<N> $crate::Relabel<N> for $t {
            #[inline]
            fn relabel(&mut self, _map: &dyn Fn(N) -> N) {}
        })*
    };
}

relabel_nothing!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    String,
    &'static str,
    std::time::Duration
);

impl<N, T: Relabel<N>> Relabel<N> for Option<T> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        if let Some(x) = self {
            x.relabel(map);
        }
    }
}

impl<N, T: Relabel<N>, E: Relabel<N>> Relabel<N> for Result<T, E> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        match self {
            Ok(x) => x.relabel(map),
            Err(e) => e.relabel(map),
        }
    }
}

impl<N, T: Relabel<N>> Relabel<N> for Box<T> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        (**self).relabel(map);
    }
}

impl<N, T: Relabel<N>> Relabel<N> for Vec<T> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        for x in self {
            x.relabel(map);
        }
    }
}

impl<N, T: Relabel<N>, const K: usize> Relabel<N> for [T; K] {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        for x in self {
            x.relabel(map);
        }
    }
}

impl<N, T: Relabel<N>> Relabel<N> for VecDeque<T> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        for x in self {
            x.relabel(map);
        }
    }
}

impl<N, T: Relabel<N> + Ord> Relabel<N> for BTreeSet<T> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        let items = std::mem::take(self);
        *self = items
            .into_iter()
            .map(|mut x| {
                x.relabel(map);
                x
            })
            .collect();
    }
}

impl<N, K: Relabel<N> + Ord, V: Relabel<N>> Relabel<N> for BTreeMap<K, V> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        let items = std::mem::take(self);
        *self = items
            .into_iter()
            .map(|(mut k, mut v)| {
                k.relabel(map);
                v.relabel(map);
                (k, v)
            })
            .collect();
    }
}

macro_rules! relabel_tuple {
    ($($t:ident $i:tt),+) => {
        impl<N, $($t: Relabel<N>),+> Relabel<N> for ($($t,)+) {
            fn relabel(&mut self, map: &dyn Fn(N) -> N) {
                $(self.$i.relabel(map);)+
            }
        }
    };
}
relabel_tuple!(A 0);
relabel_tuple!(A 0, B 1);
relabel_tuple!(A 0, B 1, C 2);
relabel_tuple!(A 0, B 1, C 2, D 3);
relabel_tuple!(A 0, B 1, C 2, D 3, E 4);
relabel_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Support for generated code: calls [`Relabel`] when the field's type
/// implements it and reports `false` otherwise, without a trait bound the
/// user would have to satisfy (method resolution prefers the by-reference
/// impl of `__ViaRelabel` and falls back to `__ViaFallback`).
pub(crate) mod __probe {
    use super::*;

    /// A field being relabelled.
    pub struct Probe<'a, T, N>(pub RefCell<&'a mut T>, pub std::marker::PhantomData<N>);

    impl<'a, T, N> Probe<'a, T, N> {
        /// Wraps a field.
        pub fn new(x: &'a mut T) -> Self {
            Probe(RefCell::new(x), std::marker::PhantomData)
        }
    }

    /// Chosen when the field's type implements [`Relabel`].
    pub trait __ViaRelabel<N> {
        /// Relabels and reports success.
        fn __relabel(&self, map: &dyn Fn(N) -> N) -> bool;
    }
    impl<T: Relabel<N>, N> __ViaRelabel<N> for Probe<'_, T, N> {
        fn __relabel(&self, map: &dyn Fn(N) -> N) -> bool {
            self.0.borrow_mut().relabel(map);
            true
        }
    }

    /// Chosen otherwise: reports that the field cannot be relabelled.
    pub trait __ViaFallback<N> {
        /// Reports failure.
        fn __relabel(&self, map: &dyn Fn(N) -> N) -> bool;
    }
    impl<T, N> __ViaFallback<N> for &Probe<'_, T, N> {
        fn __relabel(&self, _map: &dyn Fn(N) -> N) -> bool {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::__probe::{__ViaFallback, __ViaRelabel, Probe};
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Id(u8);
    impl Relabel<Id> for Id {
        fn relabel(&mut self, map: &dyn Fn(Id) -> Id) {
            *self = map(*self);
        }
    }
    struct Opaque;

    #[test]
    fn containers_relabel_every_id_and_the_probe_falls_back() {
        let swap = |n: Id| Id(1 - n.0);
        let mut v: (Vec<Id>, Option<Id>, BTreeSet<Id>, u64) =
            (vec![Id(0), Id(1)], Some(Id(0)), [Id(0)].into(), 7);
        v.relabel(&swap);
        assert_eq!(v, (vec![Id(1), Id(0)], Some(Id(1)), [Id(1)].into(), 7));
        let mut x = Id(0);
        #[allow(clippy::needless_borrow)]
        let renamed = (&Probe::<_, Id>::new(&mut x)).__relabel(&swap);
        assert!(renamed);
        assert_eq!(x, Id(1));
        let mut o = Opaque;
        assert!(!(&Probe::<_, Id>::new(&mut o)).__relabel(&swap));
    }
}
