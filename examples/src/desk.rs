//! A system edited five times, for change impact (`impact`) and the check
//! cache: a lock desk (a server and clients) and a wall clock that share
//! nothing but the system. Each module `vN` is the system after edit N;
//! the `desk` binary checks `v0`, and `--transform vN` the later ones, so
//! `desk describe --json` and `desk --transform vN impact --against FILE`
//! compare two builds.
//!
//! The edits, in order: a handler body (v1), a widened footprint (v2), an
//! added message (v3), a changed invariant (v4), a change to the clock
//! alone (v5). Edit 1 breaks `one_grant_in_flight`, edit 5 `ticks_bounded`.

/// The system as first written.
pub mod v0 {
    use std::collections::VecDeque;

    use verdict::prelude::*;

    verdict::system! {
        /// A lock desk and a wall clock in one system.
        pub system Desk;

        input enum Input { Lock, Unlock }
        output enum Output { Locked }
        message enum Msg { Lock, Unlock, Grant }
        timers { Tick }

        role Server {
            state {
                /// Clients waiting for the lock; the head holds it.
                queue: VecDeque<Node> = VecDeque::new(),
            }

            on message Lock from client writes(queue) sends(Grant) {
                if self.queue.is_empty() {
                    ctx.send(client, msg::Grant);
                }
                self.queue.push_back(client);
            }

            on message Unlock from _client writes(queue) sends(Grant) {
                self.queue.pop_front();
                if let Some(&next) = self.queue.front() {
                    ctx.send(next, msg::Grant);
                }
            }
        }

        role Client(u8) {
            state {
                /// Whether this client believes it holds the lock.
                held: bool = false,
                /// How many times it asked for the lock.
                asked: u8 = 0,
            }

            on input Lock writes(asked) sends(Lock) {
                *self.asked += 1;
                ctx.send(Node::Server, msg::Lock);
            }

            on input Unlock writes(held) sends(Unlock) {
                if *self.held {
                    *self.held = false;
                    ctx.send(Node::Server, msg::Unlock);
                }
            }

            on message Grant from _server writes(held) emits(Locked) {
                *self.held = true;
                ctx.output(output::Locked);
            }
        }

        role Clock {
            state {
                /// Ticks so far.
                ticks: u8 = 0,
                /// Rings so far: one every second tick.
                rings: u8 = 0,
            }

            on start sets(Tick) {
                ctx.set_timer(timer::Tick, Duration::from_millis(10));
            }

            on timer Tick writes(ticks, rings) sets(Tick) {
                *self.ticks += 1;
                if (*self.ticks).is_multiple_of(2) {
                    *self.rings += 1;
                }
                if *self.ticks < 3 {
                    ctx.set_timer(timer::Tick, Duration::from_millis(10));
                }
            }
        }

        /// At most one client holds the lock.
        invariant mutual_exclusion reads(Client.held) {
            self.client.iter().filter(|c| c.held).count() <= 1
        }

        /// The server's queue never holds more clients than there are.
        invariant queue_bounded reads(Server.queue) {
            self.server.queue.len() <= 2
        }

        /// Each client asks once (the workload has one round).
        invariant asked_once reads(Client.asked) {
            self.client.iter().all(|c| c.asked <= 1)
        }

        /// The clock stops at three ticks.
        invariant ticks_bounded reads(Clock.ticks) {
            self.clock.ticks <= 3
        }

        /// The clock rings at most once per two ticks.
        invariant rings_follow_ticks reads(Clock.ticks, Clock.rings) {
            2 * self.clock.rings <= self.clock.ticks
        }

        /// At most one grant is ever in flight.
        invariant one_grant_in_flight reads(network) {
            self.network.iter().filter(|p| matches!(p.msg, Msg::Grant(_))).count() <= 1
        }

        /// Seen from outside: `Locked` goes to one client at a time.
        invariant locked_alternates reads(trace) {
            let mut holder: Option<Node> = None;
            for event in self.trace {
                match event {
                    TraceEvent::Output { node, output: Output::Locked(_) } => {
                        if holder.is_some_and(|h| h != *node) {
                            return Err(format!("{node} was told Locked while another held it"));
                        }
                        holder = Some(*node);
                    }
                    TraceEvent::Input { node, input: Input::Unlock(_) } if holder == Some(*node) => {
                        holder = None
                    }
                    _ => {}
                }
            }
            Ok(())
        }
    }

    /// One server, `clients` clients and the clock.
    pub fn model(clients: usize) -> Result<Model<Desk>, verdict::SetupError> {
        let setup = Setup::new(&Sizes::new().with(Role::Client, clients))?;
        let workload = workload(&setup);
        Ok(Model::new(setup, Faults::none(), workload))
    }

    /// Each client locks, waits for `Locked`, then unlocks.
    pub fn workload(setup: &Setup<Desk>) -> Workload<Desk> {
        Workload::none(setup).each(setup, Role::Client, |_| {
            NodeWorkload::Script(vec![Step::call(input::Lock), Step::send(input::Unlock)])
        })
    }
}

/// v0 with the server's `Unlock` handler changed: it removes the sender
/// wherever it is in the queue, and grants the next client twice, so
/// `one_grant_in_flight` fails.
pub mod v1 {
    use std::collections::VecDeque;

    use verdict::prelude::*;

    verdict::system! {
        /// A lock desk and a wall clock in one system.
        pub system Desk;

        input enum Input { Lock, Unlock }
        output enum Output { Locked }
        message enum Msg { Lock, Unlock, Grant }
        timers { Tick }

        role Server {
            state {
                /// Clients waiting for the lock; the head holds it.
                queue: VecDeque<Node> = VecDeque::new(),
            }

            on message Lock from client writes(queue) sends(Grant) {
                if self.queue.is_empty() {
                    ctx.send(client, msg::Grant);
                }
                self.queue.push_back(client);
            }

            on message Unlock from client writes(queue) sends(Grant) {
                self.queue.retain(|&c| c != client);
                if let Some(&next) = self.queue.front() {
                    ctx.send(next, msg::Grant);
                    ctx.send(next, msg::Grant);
                }
            }
        }

        role Client(u8) {
            state {
                /// Whether this client believes it holds the lock.
                held: bool = false,
                /// How many times it asked for the lock.
                asked: u8 = 0,
            }

            on input Lock writes(asked) sends(Lock) {
                *self.asked += 1;
                ctx.send(Node::Server, msg::Lock);
            }

            on input Unlock writes(held) sends(Unlock) {
                if *self.held {
                    *self.held = false;
                    ctx.send(Node::Server, msg::Unlock);
                }
            }

            on message Grant from _server writes(held) emits(Locked) {
                *self.held = true;
                ctx.output(output::Locked);
            }
        }

        role Clock {
            state {
                /// Ticks so far.
                ticks: u8 = 0,
                /// Rings so far: one every second tick.
                rings: u8 = 0,
            }

            on start sets(Tick) {
                ctx.set_timer(timer::Tick, Duration::from_millis(10));
            }

            on timer Tick writes(ticks, rings) sets(Tick) {
                *self.ticks += 1;
                if (*self.ticks).is_multiple_of(2) {
                    *self.rings += 1;
                }
                if *self.ticks < 3 {
                    ctx.set_timer(timer::Tick, Duration::from_millis(10));
                }
            }
        }

        /// At most one client holds the lock.
        invariant mutual_exclusion reads(Client.held) {
            self.client.iter().filter(|c| c.held).count() <= 1
        }

        /// The server's queue never holds more clients than there are.
        invariant queue_bounded reads(Server.queue) {
            self.server.queue.len() <= 2
        }

        /// Each client asks once (the workload has one round).
        invariant asked_once reads(Client.asked) {
            self.client.iter().all(|c| c.asked <= 1)
        }

        /// The clock stops at three ticks.
        invariant ticks_bounded reads(Clock.ticks) {
            self.clock.ticks <= 3
        }

        /// The clock rings at most once per two ticks.
        invariant rings_follow_ticks reads(Clock.ticks, Clock.rings) {
            2 * self.clock.rings <= self.clock.ticks
        }

        /// At most one grant is ever in flight.
        invariant one_grant_in_flight reads(network) {
            self.network.iter().filter(|p| matches!(p.msg, Msg::Grant(_))).count() <= 1
        }

        /// Seen from outside: `Locked` goes to one client at a time.
        invariant locked_alternates reads(trace) {
            let mut holder: Option<Node> = None;
            for event in self.trace {
                match event {
                    TraceEvent::Output { node, output: Output::Locked(_) } => {
                        if holder.is_some_and(|h| h != *node) {
                            return Err(format!("{node} was told Locked while another held it"));
                        }
                        holder = Some(*node);
                    }
                    TraceEvent::Input { node, input: Input::Unlock(_) } if holder == Some(*node) => {
                        holder = None
                    }
                    _ => {}
                }
            }
            Ok(())
        }
    }

    /// One server, `clients` clients and the clock.
    pub fn model(clients: usize) -> Result<Model<Desk>, verdict::SetupError> {
        let setup = Setup::new(&Sizes::new().with(Role::Client, clients))?;
        let workload = workload(&setup);
        Ok(Model::new(setup, Faults::none(), workload))
    }

    /// Each client locks, waits for `Locked`, then unlocks.
    pub fn workload(setup: &Setup<Desk>) -> Workload<Desk> {
        Workload::none(setup).each(setup, Role::Client, |_| {
            NodeWorkload::Script(vec![Step::call(input::Lock), Step::send(input::Unlock)])
        })
    }
}

/// v1 with a footprint widened: a client's `Lock` input handler now reads `held` and asks only when it does not hold the lock.
pub mod v2 {
    use std::collections::VecDeque;

    use verdict::prelude::*;

    verdict::system! {
        /// A lock desk and a wall clock in one system.
        pub system Desk;

        input enum Input { Lock, Unlock }
        output enum Output { Locked }
        message enum Msg { Lock, Unlock, Grant }
        timers { Tick }

        role Server {
            state {
                /// Clients waiting for the lock; the head holds it.
                queue: VecDeque<Node> = VecDeque::new(),
            }

            on message Lock from client writes(queue) sends(Grant) {
                if self.queue.is_empty() {
                    ctx.send(client, msg::Grant);
                }
                self.queue.push_back(client);
            }

            on message Unlock from client writes(queue) sends(Grant) {
                self.queue.retain(|&c| c != client);
                if let Some(&next) = self.queue.front() {
                    ctx.send(next, msg::Grant);
                    ctx.send(next, msg::Grant);
                }
            }
        }

        role Client(u8) {
            state {
                /// Whether this client believes it holds the lock.
                held: bool = false,
                /// How many times it asked for the lock.
                asked: u8 = 0,
            }

            on input Lock reads(held) writes(asked) sends(Lock) {
                if !self.held {
                    *self.asked += 1;
                    ctx.send(Node::Server, msg::Lock);
                }
            }

            on input Unlock writes(held) sends(Unlock) {
                if *self.held {
                    *self.held = false;
                    ctx.send(Node::Server, msg::Unlock);
                }
            }

            on message Grant from _server writes(held) emits(Locked) {
                *self.held = true;
                ctx.output(output::Locked);
            }
        }

        role Clock {
            state {
                /// Ticks so far.
                ticks: u8 = 0,
                /// Rings so far: one every second tick.
                rings: u8 = 0,
            }

            on start sets(Tick) {
                ctx.set_timer(timer::Tick, Duration::from_millis(10));
            }

            on timer Tick writes(ticks, rings) sets(Tick) {
                *self.ticks += 1;
                if (*self.ticks).is_multiple_of(2) {
                    *self.rings += 1;
                }
                if *self.ticks < 3 {
                    ctx.set_timer(timer::Tick, Duration::from_millis(10));
                }
            }
        }

        /// At most one client holds the lock.
        invariant mutual_exclusion reads(Client.held) {
            self.client.iter().filter(|c| c.held).count() <= 1
        }

        /// The server's queue never holds more clients than there are.
        invariant queue_bounded reads(Server.queue) {
            self.server.queue.len() <= 2
        }

        /// Each client asks once (the workload has one round).
        invariant asked_once reads(Client.asked) {
            self.client.iter().all(|c| c.asked <= 1)
        }

        /// The clock stops at three ticks.
        invariant ticks_bounded reads(Clock.ticks) {
            self.clock.ticks <= 3
        }

        /// The clock rings at most once per two ticks.
        invariant rings_follow_ticks reads(Clock.ticks, Clock.rings) {
            2 * self.clock.rings <= self.clock.ticks
        }

        /// At most one grant is ever in flight.
        invariant one_grant_in_flight reads(network) {
            self.network.iter().filter(|p| matches!(p.msg, Msg::Grant(_))).count() <= 1
        }

        /// Seen from outside: `Locked` goes to one client at a time.
        invariant locked_alternates reads(trace) {
            let mut holder: Option<Node> = None;
            for event in self.trace {
                match event {
                    TraceEvent::Output { node, output: Output::Locked(_) } => {
                        if holder.is_some_and(|h| h != *node) {
                            return Err(format!("{node} was told Locked while another held it"));
                        }
                        holder = Some(*node);
                    }
                    TraceEvent::Input { node, input: Input::Unlock(_) } if holder == Some(*node) => {
                        holder = None
                    }
                    _ => {}
                }
            }
            Ok(())
        }
    }

    /// One server, `clients` clients and the clock.
    pub fn model(clients: usize) -> Result<Model<Desk>, verdict::SetupError> {
        let setup = Setup::new(&Sizes::new().with(Role::Client, clients))?;
        let workload = workload(&setup);
        Ok(Model::new(setup, Faults::none(), workload))
    }

    /// Each client locks, waits for `Locked`, then unlocks.
    pub fn workload(setup: &Setup<Desk>) -> Workload<Desk> {
        Workload::none(setup).each(setup, Role::Client, |_| {
            NodeWorkload::Script(vec![Step::call(input::Lock), Step::send(input::Unlock)])
        })
    }
}

/// v2 with a message added: the clock rings by sending itself a `Chime`, handled by a new handler.
pub mod v3 {
    use std::collections::VecDeque;

    use verdict::prelude::*;

    verdict::system! {
        /// A lock desk and a wall clock in one system.
        pub system Desk;

        input enum Input { Lock, Unlock }
        output enum Output { Locked }
        message enum Msg { Lock, Unlock, Grant, Chime }
        timers { Tick }

        role Server {
            state {
                /// Clients waiting for the lock; the head holds it.
                queue: VecDeque<Node> = VecDeque::new(),
            }

            on message Lock from client writes(queue) sends(Grant) {
                if self.queue.is_empty() {
                    ctx.send(client, msg::Grant);
                }
                self.queue.push_back(client);
            }

            on message Unlock from client writes(queue) sends(Grant) {
                self.queue.retain(|&c| c != client);
                if let Some(&next) = self.queue.front() {
                    ctx.send(next, msg::Grant);
                    ctx.send(next, msg::Grant);
                }
            }
        }

        role Client(u8) {
            state {
                /// Whether this client believes it holds the lock.
                held: bool = false,
                /// How many times it asked for the lock.
                asked: u8 = 0,
            }

            on input Lock reads(held) writes(asked) sends(Lock) {
                if !self.held {
                    *self.asked += 1;
                    ctx.send(Node::Server, msg::Lock);
                }
            }

            on input Unlock writes(held) sends(Unlock) {
                if *self.held {
                    *self.held = false;
                    ctx.send(Node::Server, msg::Unlock);
                }
            }

            on message Grant from _server writes(held) emits(Locked) {
                *self.held = true;
                ctx.output(output::Locked);
            }
        }

        role Clock {
            state {
                /// Ticks so far.
                ticks: u8 = 0,
                /// Rings so far: one every second tick.
                rings: u8 = 0,
            }

            on start sets(Tick) {
                ctx.set_timer(timer::Tick, Duration::from_millis(10));
            }

            on timer Tick writes(ticks) sends(Chime) sets(Tick) {
                *self.ticks += 1;
                if (*self.ticks).is_multiple_of(2) {
                    ctx.send(Node::Clock, msg::Chime);
                }
                if *self.ticks < 3 {
                    ctx.set_timer(timer::Tick, Duration::from_millis(10));
                }
            }

            on message Chime from _clock writes(rings) {
                *self.rings += 1;
            }
        }

        /// At most one client holds the lock.
        invariant mutual_exclusion reads(Client.held) {
            self.client.iter().filter(|c| c.held).count() <= 1
        }

        /// The server's queue never holds more clients than there are.
        invariant queue_bounded reads(Server.queue) {
            self.server.queue.len() <= 2
        }

        /// Each client asks once (the workload has one round).
        invariant asked_once reads(Client.asked) {
            self.client.iter().all(|c| c.asked <= 1)
        }

        /// The clock stops at three ticks.
        invariant ticks_bounded reads(Clock.ticks) {
            self.clock.ticks <= 3
        }

        /// The clock rings at most once per two ticks.
        invariant rings_follow_ticks reads(Clock.ticks, Clock.rings) {
            2 * self.clock.rings <= self.clock.ticks
        }

        /// At most one grant is ever in flight.
        invariant one_grant_in_flight reads(network) {
            self.network.iter().filter(|p| matches!(p.msg, Msg::Grant(_))).count() <= 1
        }

        /// Seen from outside: `Locked` goes to one client at a time.
        invariant locked_alternates reads(trace) {
            let mut holder: Option<Node> = None;
            for event in self.trace {
                match event {
                    TraceEvent::Output { node, output: Output::Locked(_) } => {
                        if holder.is_some_and(|h| h != *node) {
                            return Err(format!("{node} was told Locked while another held it"));
                        }
                        holder = Some(*node);
                    }
                    TraceEvent::Input { node, input: Input::Unlock(_) } if holder == Some(*node) => {
                        holder = None
                    }
                    _ => {}
                }
            }
            Ok(())
        }
    }

    /// One server, `clients` clients and the clock.
    pub fn model(clients: usize) -> Result<Model<Desk>, verdict::SetupError> {
        let setup = Setup::new(&Sizes::new().with(Role::Client, clients))?;
        let workload = workload(&setup);
        Ok(Model::new(setup, Faults::none(), workload))
    }

    /// Each client locks, waits for `Locked`, then unlocks.
    pub fn workload(setup: &Setup<Desk>) -> Workload<Desk> {
        Workload::none(setup).each(setup, Role::Client, |_| {
            NodeWorkload::Script(vec![Step::call(input::Lock), Step::send(input::Unlock)])
        })
    }
}

/// v3 with an invariant changed: `mutual_exclusion` names the holders.
pub mod v4 {
    use std::collections::VecDeque;

    use verdict::prelude::*;

    verdict::system! {
        /// A lock desk and a wall clock in one system.
        pub system Desk;

        input enum Input { Lock, Unlock }
        output enum Output { Locked }
        message enum Msg { Lock, Unlock, Grant, Chime }
        timers { Tick }

        role Server {
            state {
                /// Clients waiting for the lock; the head holds it.
                queue: VecDeque<Node> = VecDeque::new(),
            }

            on message Lock from client writes(queue) sends(Grant) {
                if self.queue.is_empty() {
                    ctx.send(client, msg::Grant);
                }
                self.queue.push_back(client);
            }

            on message Unlock from client writes(queue) sends(Grant) {
                self.queue.retain(|&c| c != client);
                if let Some(&next) = self.queue.front() {
                    ctx.send(next, msg::Grant);
                    ctx.send(next, msg::Grant);
                }
            }
        }

        role Client(u8) {
            state {
                /// Whether this client believes it holds the lock.
                held: bool = false,
                /// How many times it asked for the lock.
                asked: u8 = 0,
            }

            on input Lock reads(held) writes(asked) sends(Lock) {
                if !self.held {
                    *self.asked += 1;
                    ctx.send(Node::Server, msg::Lock);
                }
            }

            on input Unlock writes(held) sends(Unlock) {
                if *self.held {
                    *self.held = false;
                    ctx.send(Node::Server, msg::Unlock);
                }
            }

            on message Grant from _server writes(held) emits(Locked) {
                *self.held = true;
                ctx.output(output::Locked);
            }
        }

        role Clock {
            state {
                /// Ticks so far.
                ticks: u8 = 0,
                /// Rings so far: one every second tick.
                rings: u8 = 0,
            }

            on start sets(Tick) {
                ctx.set_timer(timer::Tick, Duration::from_millis(10));
            }

            on timer Tick writes(ticks) sends(Chime) sets(Tick) {
                *self.ticks += 1;
                if (*self.ticks).is_multiple_of(2) {
                    ctx.send(Node::Clock, msg::Chime);
                }
                if *self.ticks < 3 {
                    ctx.set_timer(timer::Tick, Duration::from_millis(10));
                }
            }

            on message Chime from _clock writes(rings) {
                *self.rings += 1;
            }
        }

        /// At most one client holds the lock.
        invariant mutual_exclusion reads(Client.held) {
            let holders: Vec<Node> = self.client.iter().filter(|c| c.held).map(|c| c.node()).collect();
            if holders.len() > 1 {
                return Err(format!("{holders:?} all hold the lock"));
            }
            Ok(())
        }

        /// The server's queue never holds more clients than there are.
        invariant queue_bounded reads(Server.queue) {
            self.server.queue.len() <= 2
        }

        /// Each client asks once (the workload has one round).
        invariant asked_once reads(Client.asked) {
            self.client.iter().all(|c| c.asked <= 1)
        }

        /// The clock stops at three ticks.
        invariant ticks_bounded reads(Clock.ticks) {
            self.clock.ticks <= 3
        }

        /// The clock rings at most once per two ticks.
        invariant rings_follow_ticks reads(Clock.ticks, Clock.rings) {
            2 * self.clock.rings <= self.clock.ticks
        }

        /// At most one grant is ever in flight.
        invariant one_grant_in_flight reads(network) {
            self.network.iter().filter(|p| matches!(p.msg, Msg::Grant(_))).count() <= 1
        }

        /// Seen from outside: `Locked` goes to one client at a time.
        invariant locked_alternates reads(trace) {
            let mut holder: Option<Node> = None;
            for event in self.trace {
                match event {
                    TraceEvent::Output { node, output: Output::Locked(_) } => {
                        if holder.is_some_and(|h| h != *node) {
                            return Err(format!("{node} was told Locked while another held it"));
                        }
                        holder = Some(*node);
                    }
                    TraceEvent::Input { node, input: Input::Unlock(_) } if holder == Some(*node) => {
                        holder = None
                    }
                    _ => {}
                }
            }
            Ok(())
        }
    }

    /// One server, `clients` clients and the clock.
    pub fn model(clients: usize) -> Result<Model<Desk>, verdict::SetupError> {
        let setup = Setup::new(&Sizes::new().with(Role::Client, clients))?;
        let workload = workload(&setup);
        Ok(Model::new(setup, Faults::none(), workload))
    }

    /// Each client locks, waits for `Locked`, then unlocks.
    pub fn workload(setup: &Setup<Desk>) -> Workload<Desk> {
        Workload::none(setup).each(setup, Role::Client, |_| {
            NodeWorkload::Script(vec![Step::call(input::Lock), Step::send(input::Unlock)])
        })
    }
}

/// v4 with an unrelated role changed: the clock ticks four times, so `ticks_bounded` fails.
pub mod v5 {
    use std::collections::VecDeque;

    use verdict::prelude::*;

    verdict::system! {
        /// A lock desk and a wall clock in one system.
        pub system Desk;

        input enum Input { Lock, Unlock }
        output enum Output { Locked }
        message enum Msg { Lock, Unlock, Grant, Chime }
        timers { Tick }

        role Server {
            state {
                /// Clients waiting for the lock; the head holds it.
                queue: VecDeque<Node> = VecDeque::new(),
            }

            on message Lock from client writes(queue) sends(Grant) {
                if self.queue.is_empty() {
                    ctx.send(client, msg::Grant);
                }
                self.queue.push_back(client);
            }

            on message Unlock from client writes(queue) sends(Grant) {
                self.queue.retain(|&c| c != client);
                if let Some(&next) = self.queue.front() {
                    ctx.send(next, msg::Grant);
                    ctx.send(next, msg::Grant);
                }
            }
        }

        role Client(u8) {
            state {
                /// Whether this client believes it holds the lock.
                held: bool = false,
                /// How many times it asked for the lock.
                asked: u8 = 0,
            }

            on input Lock reads(held) writes(asked) sends(Lock) {
                if !self.held {
                    *self.asked += 1;
                    ctx.send(Node::Server, msg::Lock);
                }
            }

            on input Unlock writes(held) sends(Unlock) {
                if *self.held {
                    *self.held = false;
                    ctx.send(Node::Server, msg::Unlock);
                }
            }

            on message Grant from _server writes(held) emits(Locked) {
                *self.held = true;
                ctx.output(output::Locked);
            }
        }

        role Clock {
            state {
                /// Ticks so far.
                ticks: u8 = 0,
                /// Rings so far: one every second tick.
                rings: u8 = 0,
            }

            on start sets(Tick) {
                ctx.set_timer(timer::Tick, Duration::from_millis(10));
            }

            on timer Tick writes(ticks) sends(Chime) sets(Tick) {
                *self.ticks += 1;
                if (*self.ticks).is_multiple_of(2) {
                    ctx.send(Node::Clock, msg::Chime);
                }
                if *self.ticks < 4 {
                    ctx.set_timer(timer::Tick, Duration::from_millis(10));
                }
            }

            on message Chime from _clock writes(rings) {
                *self.rings += 1;
            }
        }

        /// At most one client holds the lock.
        invariant mutual_exclusion reads(Client.held) {
            let holders: Vec<Node> = self.client.iter().filter(|c| c.held).map(|c| c.node()).collect();
            if holders.len() > 1 {
                return Err(format!("{holders:?} all hold the lock"));
            }
            Ok(())
        }

        /// The server's queue never holds more clients than there are.
        invariant queue_bounded reads(Server.queue) {
            self.server.queue.len() <= 2
        }

        /// Each client asks once (the workload has one round).
        invariant asked_once reads(Client.asked) {
            self.client.iter().all(|c| c.asked <= 1)
        }

        /// The clock stops at three ticks.
        invariant ticks_bounded reads(Clock.ticks) {
            self.clock.ticks <= 3
        }

        /// The clock rings at most once per two ticks.
        invariant rings_follow_ticks reads(Clock.ticks, Clock.rings) {
            2 * self.clock.rings <= self.clock.ticks
        }

        /// At most one grant is ever in flight.
        invariant one_grant_in_flight reads(network) {
            self.network.iter().filter(|p| matches!(p.msg, Msg::Grant(_))).count() <= 1
        }

        /// Seen from outside: `Locked` goes to one client at a time.
        invariant locked_alternates reads(trace) {
            let mut holder: Option<Node> = None;
            for event in self.trace {
                match event {
                    TraceEvent::Output { node, output: Output::Locked(_) } => {
                        if holder.is_some_and(|h| h != *node) {
                            return Err(format!("{node} was told Locked while another held it"));
                        }
                        holder = Some(*node);
                    }
                    TraceEvent::Input { node, input: Input::Unlock(_) } if holder == Some(*node) => {
                        holder = None
                    }
                    _ => {}
                }
            }
            Ok(())
        }
    }

    /// One server, `clients` clients and the clock.
    pub fn model(clients: usize) -> Result<Model<Desk>, verdict::SetupError> {
        let setup = Setup::new(&Sizes::new().with(Role::Client, clients))?;
        let workload = workload(&setup);
        Ok(Model::new(setup, Faults::none(), workload))
    }

    /// Each client locks, waits for `Locked`, then unlocks.
    pub fn workload(setup: &Setup<Desk>) -> Workload<Desk> {
        Workload::none(setup).each(setup, Role::Client, |_| {
            NodeWorkload::Script(vec![Step::call(input::Lock), Step::send(input::Unlock)])
        })
    }
}
