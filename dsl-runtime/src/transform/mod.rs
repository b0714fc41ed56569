//! System transformers: check a system once on a simple network, then wrap
//! it to survive a harsher one.

pub mod crash_recovery;
pub mod ghost;
pub mod layer;
pub mod plan;
pub mod primary_backup;
pub mod projection;
pub mod refinement;
pub mod reliable;
pub mod state_machine;

pub use crash_recovery::{recovering_model, CrashRecovery, RecoveringState};
pub use ghost::{check_transparent, Difference, Ghost, GhostState, GhostView, Observed, Observer};
pub use plan::{plan_retransmitting, Plan, DEFAULT_DEPTH};
pub use primary_backup::{PbBug, PbConfig, PbNode, PrimaryBackup};
pub use refinement::{check_refinement, RefinementOptions, RefinementOutcome, RefinementReport};
pub use reliable::{
    reliable_model, Reliable, ReliableConfig, ReliableMsg, ReliableState, ReliableTimer,
};
pub use state_machine::{check_linearizable, StateMachine};

use crate::faults::Faults;
use crate::semantics::Model;
use crate::system::System;

/// The model of transformer `T` around `base`'s model: the same nodes and
/// workload, `T`'s configuration and the fault model `faults` (usually
/// harsher than the one `base` was checked under).
pub fn wrap_model<T, S>(base: &Model<S>, config: T::Config, faults: Faults) -> Model<T>
where
    T: System<Node = S::Node, Input = S::Input, Output = S::Output>,
    S: System,
{
    let mut model = Model::new(
        base.setup.with_system::<T>(config),
        faults,
        base.workload.with_system::<T>(),
    );
    model.record_trace |= base.record_trace;
    model
}
