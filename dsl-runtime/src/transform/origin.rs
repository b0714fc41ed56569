//! Commands tagged with who asked, so that a gateway in a server's process
//! (the runtime's RESP front end) can route each output back to the
//! connection that sent the command.
//!
//! [`Tagged<M>`] is state machine `M` whose inputs carry an [`Origin`] and
//! whose outputs carry the same origin back. The tag takes no part in what
//! the machine does: it is copied from input to output. A replication
//! transformer replicates the tag with the command, so whichever server
//! emits the output, the gateway that made the tag recognises it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::check::Relabel;
use crate::transform::state_machine::StateMachine;

/// Who asked: a number the gateway chose, unique among the commands it
/// has in flight (and, with a per-process start value, across restarts).
pub type Origin = u64;

/// A command of `M`, and who asked.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Asked<I> {
    /// Who asked.
    pub origin: Origin,
    /// The command.
    pub input: I,
}

/// The output of a command of `M`, and who asked for it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Answered<O> {
    /// Who asked.
    pub origin: Origin,
    /// The output.
    pub output: O,
}

impl<I: fmt::Debug> fmt::Debug for Asked<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {:?}", self.origin, self.input)
    }
}

impl<O: fmt::Debug> fmt::Debug for Answered<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {:?}", self.origin, self.output)
    }
}

/// State machine `M` with origin-tagged inputs and outputs.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tagged<M>(pub M);

impl<M: fmt::Debug> fmt::Debug for Tagged<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<M: StateMachine> StateMachine for Tagged<M> {
    type Input = Asked<M::Input>;
    type Output = Answered<M::Output>;

    fn apply(&mut self, asked: &Asked<M::Input>) -> Answered<M::Output> {
        Answered {
            origin: asked.origin,
            output: self.0.apply(&asked.input),
        }
    }

    fn is_read_only(asked: &Asked<M::Input>) -> bool {
        M::is_read_only(&asked.input)
    }

    fn partition_key(asked: &Asked<M::Input>) -> Option<u64> {
        M::partition_key(&asked.input)
    }
}

impl<N, M: Relabel<N>> Relabel<N> for Tagged<M> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        self.0.relabel(map);
    }
}

impl<N, I: Relabel<N>> Relabel<N> for Asked<I> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        self.input.relabel(map);
    }
}

impl<N, O: Relabel<N>> Relabel<N> for Answered<O> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        self.output.relabel(map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    struct Counter(u32);

    impl StateMachine for Counter {
        type Input = u32;
        type Output = u32;
        fn apply(&mut self, add: &u32) -> u32 {
            self.0 += add;
            self.0
        }
    }

    #[test]
    fn the_origin_comes_back_with_the_output_and_the_machine_ignores_it() {
        let mut m = Tagged(Counter::default());
        let a = m.apply(&Asked {
            origin: 7,
            input: 2,
        });
        let b = m.apply(&Asked {
            origin: 3,
            input: 5,
        });
        assert_eq!((a.origin, a.output), (7, 2));
        assert_eq!((b.origin, b.output), (3, 7));
    }
}
