//! Fault injection on real traffic, driven by the same [`Faults`] value the
//! checker explored.
//!
//! Every message a node sends passes through its [`Injector`], which may
//! drop it, duplicate it, delay it (so later messages overtake it: the
//! checker's reorder) or hold it because a partition separates the two
//! nodes. A fault kind the model leaves off never happens. A kind with a
//! budget `=N` happens at most N times in this process; an unlimited kind
//! happens to each message with probability `rate`. Partitions are not
//! random: a client asks for one (`client --partition`), and the request is
//! refused unless the model allows partitions, within its budget.
//!
//! Crashes are not injected: a crash is a real process death (`kill -9`),
//! and the restart is a real restart.

use std::time::Duration;

use crate::faults::{Budget, Faults};

/// How a node injects faults.
#[derive(Debug, Clone, Copy)]
pub struct InjectorSettings {
    /// Which faults may happen, and how many.
    pub faults: Faults,
    /// Probability that an allowed fault hits a given message.
    pub rate: f64,
    /// The longest delay a reordered message gets.
    pub max_delay: Duration,
    /// Seed of the injector's random choices.
    pub seed: u64,
}

impl Default for InjectorSettings {
    fn default() -> Self {
        InjectorSettings {
            faults: Faults::none(),
            rate: 0.05,
            max_delay: Duration::from_millis(50),
            seed: 1,
        }
    }
}

/// What happens to one outgoing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Send it: `copies` times (2 when duplicated), after `delay` if any.
    Send {
        /// 1, or 2 for a duplicate.
        copies: u8,
        /// Hold back this long first (reorder).
        delay: Option<Duration>,
    },
    /// Lose it.
    Drop,
    /// Keep it until the partition heals.
    Hold,
}

/// The fault-injection layer of one node.
#[derive(Debug)]
pub struct Injector {
    settings: InjectorSettings,
    rng: u64,
    drops: u8,
    dups: u8,
    delays: u8,
    partitions: u8,
    /// Bit `i` set for nodes on the cut-off side; 0 when whole.
    side: u64,
}

impl Injector {
    /// An injector with these settings.
    pub fn new(settings: InjectorSettings) -> Self {
        Injector {
            settings,
            rng: settings.seed.max(1),
            drops: 0,
            dups: 0,
            delays: 0,
            partitions: 0,
            side: 0,
        }
    }

    /// The fault model it injects.
    pub fn faults(&self) -> Faults {
        self.settings.faults
    }

    fn coin(&mut self) -> f64 {
        // xorshift64*: fast, and deterministic for a seed.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn hit(&mut self, budget: Budget, used: u8) -> bool {
        budget.allows(used) && budget.is_on() && self.coin() < self.settings.rate
    }

    /// Decides the fate of a message from node index `src` to `dst`.
    pub fn route(&mut self, src: usize, dst: usize) -> Route {
        if self.is_cut(src, dst) {
            return Route::Hold;
        }
        let f = self.settings.faults;
        if self.hit(f.drop, self.drops) {
            self.drops = self.drops.saturating_add(1);
            return Route::Drop;
        }
        let mut copies = 1;
        if self.hit(f.duplicate, self.dups) {
            self.dups = self.dups.saturating_add(1);
            copies = 2;
        }
        let mut delay = None;
        if self.hit(f.reorder, self.delays) {
            self.delays = self.delays.saturating_add(1);
            let max = self.settings.max_delay.as_micros() as f64;
            delay = Some(Duration::from_micros((self.coin() * max) as u64 + 1));
        }
        Route::Send { copies, delay }
    }

    /// Whether a partition separates node indices `a` and `b`.
    pub fn is_cut(&self, a: usize, b: usize) -> bool {
        let bit = |i: usize| if i < 64 { (self.side >> i) & 1 } else { 0 };
        self.side != 0 && bit(a) != bit(b)
    }

    /// Cuts the nodes whose bits are set in `side` off from the rest.
    pub fn partition(&mut self, side: u64) -> Result<(), String> {
        let budget = self.settings.faults.partition;
        if !budget.is_on() {
            return Err(format!(
                "this node runs under faults `{}`, which do not include partition; \
                 start the nodes with --faults partition",
                self.settings.faults
            ));
        }
        if self.side != 0 {
            return Err("the network is already partitioned; heal it first".into());
        }
        if !budget.allows(self.partitions) {
            return Err(format!(
                "the partition budget of `{}` is used up",
                self.settings.faults
            ));
        }
        if side == 0 {
            return Err("a partition needs at least one node on the cut-off side".into());
        }
        self.partitions = self.partitions.saturating_add(1);
        self.side = side;
        Ok(())
    }

    /// Heals the partition; returns whether there was one.
    pub fn heal(&mut self) -> bool {
        std::mem::take(&mut self.side) != 0
    }
}

/// Messages a partition holds back until it heals, at most `limit` per
/// direction: past that a partition is a lossy one, so a long partition
/// cannot grow memory without end. Protocols that retransmit do not
/// notice the difference; the node counts and warns of each loss.
#[derive(Debug)]
pub struct HeldBack<M> {
    limit: usize,
    /// Messages this node would have sent, by destination index.
    pub outgoing: Vec<(usize, M)>,
    /// Messages that reached this node, by source index.
    pub incoming: Vec<(usize, M)>,
}

impl<M> HeldBack<M> {
    /// Messages held per direction on a node's event loop.
    pub const NODE_LIMIT: usize = 16_384;

    /// Nothing held yet; at most `limit` messages per direction.
    pub fn new(limit: usize) -> Self {
        HeldBack {
            limit,
            outgoing: Vec::new(),
            incoming: Vec::new(),
        }
    }

    /// Holds a message; `false` if that direction is full and it was lost.
    pub fn hold(&mut self, incoming: bool, peer: usize, msg: M) -> bool {
        let queue = if incoming {
            &mut self.incoming
        } else {
            &mut self.outgoing
        };
        if queue.len() >= self.limit {
            return false;
        }
        queue.push((peer, msg));
        true
    }

    /// Everything held, for release when the partition heals; this one
    /// is left empty, with the same limit.
    pub fn take(&mut self) -> HeldBack<M> {
        std::mem::replace(self, HeldBack::new(self.limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_holds_at_most_its_limit_per_direction() {
        let mut held = HeldBack::new(2);
        assert!(held.hold(false, 1, "a"));
        assert!(held.hold(false, 2, "b"));
        assert!(!held.hold(false, 1, "c"), "the outgoing side is full");
        assert!(
            held.hold(true, 1, "d"),
            "the incoming side has its own limit"
        );
        let released = held.take();
        assert_eq!(released.outgoing, [(1, "a"), (2, "b")]);
        assert_eq!(released.incoming, [(1, "d")]);
        assert!(held.hold(false, 1, "e"), "released messages free the space");
    }

    #[test]
    fn no_faults_means_every_message_goes_once() {
        let mut inj = Injector::new(InjectorSettings {
            rate: 1.0,
            ..Default::default()
        });
        for _ in 0..100 {
            assert_eq!(
                inj.route(0, 1),
                Route::Send {
                    copies: 1,
                    delay: None
                }
            );
        }
        assert!(inj.partition(1).is_err());
    }

    #[test]
    fn budgets_bound_injected_faults() {
        let mut inj = Injector::new(InjectorSettings {
            faults: "drop=2,partition=1".parse().unwrap(),
            rate: 1.0,
            ..Default::default()
        });
        let drops = (0..50).filter(|_| inj.route(0, 1) == Route::Drop).count();
        assert_eq!(drops, 2);
        inj.partition(0b01).unwrap();
        assert_eq!(inj.route(0, 1), Route::Hold);
        assert_eq!(
            inj.route(1, 2),
            Route::Send {
                copies: 1,
                delay: None
            }
        );
        assert!(inj.heal());
        assert!(inj.partition(0b01).is_err(), "budget of one partition");
    }
}
