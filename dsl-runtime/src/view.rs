//! Read-only views of nodes for invariants.
//!
//! A global invariant sees each role it reads through [`NodesOf`], which
//! yields one generated view per node holding only the fields the invariant
//! declared. The views are built on demand, so evaluating an invariant does
//! not allocate.

use crate::meta::RoleId;
use crate::semantics::NodeSlot;
use crate::semantics::World;
use crate::setup::Setup;
use crate::system::System;

/// The nodes of one role, each seen through view type `V`.
pub struct NodesOf<'a, S: System, V> {
    slots: &'a [NodeSlot<S>],
    role: RoleId,
    project: fn(S::Node, bool, &'a S::State) -> Option<V>,
}

impl<'a, S: System, V> Clone for NodesOf<'a, S, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<'a, S: System, V> Copy for NodesOf<'a, S, V> {}

impl<'a, S: System, V: 'a> NodesOf<'a, S, V> {
    /// Built by generated code only, through `__private::nodes_of`.
    pub(crate) fn new(
        setup: &Setup<S>,
        world: &'a World<S>,
        role: RoleId,
        project: fn(S::Node, bool, &'a S::State) -> Option<V>,
    ) -> Self {
        NodesOf {
            slots: &world.nodes[setup.role_range(role)],
            role,
            project,
        }
    }

    /// How many nodes the role has in this run.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the role has no nodes in this run.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The view of instance `i`, if it exists.
    pub fn get(&self, i: usize) -> Option<V> {
        let slot = self.slots.get(i)?;
        (self.project)(S::node(self.role, i), slot.up, &slot.state)
    }

    /// Every node of the role, in instance order (down nodes included; ask
    /// the view's `is_up()`).
    pub fn iter(&self) -> impl Iterator<Item = V> + 'a {
        let (role, project) = (self.role, self.project);
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, slot)| project(S::node(role, i), slot.up, &slot.state))
    }
}
