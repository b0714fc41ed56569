//! `lockserv`: check the lock server, or deploy it — as written, or
//! wrapped by a system transformer.
//!
//! ```text
//! lockserv check --clients 3                 # exits 0: mutual exclusion holds
//! lockserv check --clients 3 --faults dup    # exits 1 with a counterexample
//! lockserv check --clients 3 --faults drop,dup,reorder --transform reliable   # exits 0
//! lockserv check --clients 2 --transform upgrade-v2 --faults upgrade          # exits 0
//! lockserv check --clients 2 --transform upgrade-v2-broken --faults upgrade   # exits 1
//! lockserv cluster --clients 2               # three processes on loopback
//! lockserv cluster --clients 2 --transform reliable --faults drop,dup,reorder
//! lockserv client --cluster FILE --node 'Client(0)' Lock
//! lockserv serve --cluster FILE --node Server --transform upgrade-v2   # upgrade one node live
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict::transform::{CrashRecovery, Reliable, Upgrade};
use verdict::{Setup, System, Workload};
use verdict_examples::lockserv::{self, Input, LockServ, Node, Role};
use verdict_examples::lockserv_upgrade::{BrokenToV2, ToV2};

const ROUNDS: Flag<usize> = Flag::usize("rounds", 1, "Lock/unlock rounds per client");

fn main() -> ExitCode {
    app::<LockServ>()
        .transform(
            "reliable",
            "sequence numbers, acknowledgements and retransmission (survives drop, dup, reorder)",
            || app::<Reliable<LockServ>>().retransmitting(),
        )
        .transform(
            "crash-recovery",
            "all state durable, timers re-armed (survives crash-restart)",
            app::<CrashRecovery<LockServ>>,
        )
        .transform("reliable-crash-recovery", "both of the above", || {
            app::<Reliable<CrashRecovery<LockServ>>>().retransmitting()
        })
        .transform(
            "upgrade-v2",
            "a rolling upgrade to version 2 (check: nodes upgrade under --faults upgrade=N; \
             serve: this node runs version 2, migrating a version 1 data directory)",
            || app::<Upgrade<ToV2>>().live_upgrade(),
        )
        .transform(
            "upgrade-v2-broken",
            "the same upgrade with a server migration that forgets the holder",
            || app::<Upgrade<BrokenToV2>>().live_upgrade(),
        )
        .run()
}

/// The program for the lock server wrapped as `S`.
fn app<S: System<Node = Node, Input = Input, Role = Role>>() -> App<S> {
    App::<S>::new("lockserv")
        .about("The lock server, checked and deployed with Verdict")
        .size_flag(Role::Client, "clients", 3, "Number of clients")
        .flag(ROUNDS)
        .workload(|setup, flags| workload(setup, flags.get(ROUNDS)))
}

/// The lock server's workload, for the lock server wrapped as `S`.
fn workload<S: System<Node = Node, Input = Input>>(setup: &Setup<S>, rounds: usize) -> Workload<S> {
    let base = setup.with_system::<LockServ>(());
    lockserv::workload(&base, rounds).with_system::<S>()
}
