//! Evaluating a system's invariants on a world.

use crate::check::counterexample::Violation;
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
    let meta = S::meta();
    for (id, inv) in meta.invariants.iter().enumerate() {
        match inv.scope {
            InvariantScope::Global | InvariantScope::Trace => {
                evals[id] += 1;
                S::check_global(id, setup, world).map_err(|message| Violation::Invariant {
                    name: inv.name,
                    node: None,
                    message,
                })?;
            }
            InvariantScope::Local(role) => {
                for i in setup.role_range(role) {
                    let slot = &world.nodes[i];
                    if !slot.up {
                        continue;
                    }
                    evals[id] += 1;
                    let node = setup.nodes()[i];
                    S::check_local(id, node, &slot.state).map_err(|message| {
                        Violation::Invariant {
                            name: inv.name,
                            node: Some(node.to_string()),
                            message,
                        }
                    })?;
                }
            }
        }
    }
    Ok(())
}
