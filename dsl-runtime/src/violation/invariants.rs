//! Evaluating a system's invariants on a world.

use super::counterexample::Violation;
use crate::meta::InvariantScope;
use crate::semantics::World;
use crate::setup::Setup;
use crate::system::System;

/// Checks every invariant on `world`, counting evaluations in `evals`
/// (indexed by invariant id). Returns the first violation.
pub fn check_world<S: System>(
    setup: &Setup<S>,
    world: &World<S>,
    evals: &mut [u64],
) -> Result<(), Violation> {
    (0..S::meta().invariants.len()).try_for_each(|id| check_one(setup, world, id, None, evals))
}

/// Checks the invariants selected by `mask` (bit `i` = invariant `i`; all
/// when `mask` is [`u64::MAX`] or the system has more than 64). Local
/// invariants are checked on `node` only when it is given, else on every
/// node of their role.
pub fn check_selected<S: System>(
    setup: &Setup<S>,
    world: &World<S>,
    mask: u64,
    node: Option<usize>,
    evals: &mut [u64],
) -> Result<(), Violation> {
    let meta = S::meta();
    if mask == u64::MAX || meta.invariants.len() > 64 {
        return check_world(setup, world, evals);
    }
    let mut bits = mask & (u64::MAX >> (64 - meta.invariants.len().max(1)));
    while bits != 0 {
        let id = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        check_one(setup, world, id, node, evals)?;
    }
    Ok(())
}

/// Checks invariant `id` on `world` (a local one on every up node of its role).
pub fn check_invariant<S: System>(
    setup: &Setup<S>,
    world: &World<S>,
    id: usize,
) -> Result<(), Violation> {
    check_one(setup, world, id, None, &mut [])
}

/// Checks invariant `id`; a local one on `only` when given (if it is of
/// the invariant's role), else on every up node of its role.
fn check_one<S: System>(
    setup: &Setup<S>,
    world: &World<S>,
    id: usize,
    only: Option<usize>,
    evals: &mut [u64],
) -> Result<(), Violation> {
    let inv = &S::meta().invariants[id];
    match inv.scope {
        InvariantScope::Global | InvariantScope::Trace => {
            count(evals, id);
            S::check_global(id, setup, world).map_err(|message| Violation::Invariant {
                name: inv.name,
                node: None,
                message,
            })
        }
        InvariantScope::Local(role) => {
            let range = setup.role_range(role);
            let nodes = match only {
                Some(i) if range.contains(&i) => i..i + 1,
                Some(_) => 0..0,
                None => range,
            };
            for i in nodes {
                let slot = &world.nodes[i];
                if !slot.up {
                    continue;
                }
                count(evals, id);
                let node = setup.nodes()[i];
                S::check_local(id, node, &slot.state, setup.config()).map_err(|message| {
                    Violation::Invariant {
                        name: inv.name,
                        node: Some(node.to_string()),
                        message,
                    }
                })?;
            }
            Ok(())
        }
    }
}

/// Counts one evaluation of invariant `id`, when `evals` keeps counts.
fn count(evals: &mut [u64], id: usize) {
    if let Some(e) = evals.get_mut(id) {
        *e += 1;
    }
}
