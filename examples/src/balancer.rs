//! A load balancer: a dispatcher sends each job to a worker it *chooses*
//! among those with room, and queues the job when none has.
//!
//! The choice is `ctx.choose_from(..)`: the checker explores every worker
//! the dispatcher could pick, the runtime picks one at random and logs it.
//! Without a choice primitive, each alternative would need a timer of its
//! own.
//!
//! Invariant: no worker holds more jobs than its capacity. The
//! `ignore_load` setting is a deliberate bug: the dispatcher chooses among
//! all workers, full or not, so two jobs can land on one worker.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use verdict::prelude::*;
use verdict::SetupError;

verdict::system! {
    /// A dispatcher and any number of workers.
    pub system Balancer;

    config {
        /// Jobs a worker may hold at once.
        capacity: usize = 1,
        /// Choose among all workers, full or not: a deliberate bug.
        ignore_load: bool = false,
    }

    /// Work for the dispatcher to place.
    input enum Input { Job(u8) }
    /// What the dispatcher reports.
    output enum Output {
        /// The job was sent to this worker.
        Assigned { job: u8, worker: Node },
        /// A worker finished the job.
        Finished(u8),
    }
    /// Between the dispatcher and the workers.
    message enum Msg { Assign(u8), Done(u8) }
    timers {
        /// A worker finishes its oldest job.
        Finish,
    }

    role Dispatcher {
        state {
            /// Jobs each worker holds, as far as the dispatcher knows.
            load: BTreeMap<Node, usize> = BTreeMap::new(),
            /// Jobs waiting for a worker with room.
            waiting: VecDeque<u8> = VecDeque::new(),
        }

        on input Job(job) writes(load, waiting) chooses sends(Assign) emits(Assigned) {
            self.waiting.push_back(job);
            place(ctx, self.load, self.waiting);
        }

        on message Done(job) from worker writes(load, waiting) chooses sends(Assign) emits(Assigned, Finished) {
            if let Some(n) = self.load.get_mut(&worker) {
                *n = n.saturating_sub(1);
            }
            ctx.output(output::Finished(job));
            place(ctx, self.load, self.waiting);
        }
    }

    role Worker(u8) {
        state {
            /// The jobs this worker holds.
            jobs: BTreeSet<u8> = BTreeSet::new(),
        }

        on message Assign(job) from _dispatcher writes(jobs) sets(Finish) {
            self.jobs.insert(job);
            ctx.set_timer(timer::Finish, Duration::from_millis(50));
        }

        on timer Finish writes(jobs) sends(Done) sets(Finish) {
            if let Some(job) = self.jobs.pop_first() {
                ctx.send(Node::Dispatcher, msg::Done(job));
            }
            if !self.jobs.is_empty() {
                ctx.set_timer(timer::Finish, Duration::from_millis(50));
            }
        }
    }

    /// No worker holds more jobs than its capacity.
    invariant within_capacity reads(Worker.jobs, config) {
        let capacity = self.config.capacity;
        match self.worker.iter().find(|w| w.jobs.len() > capacity) {
            Some(w) => Err(format!("{} holds jobs {:?}, more than its capacity {capacity}", w.node(), w.jobs)),
            None => Ok(()),
        }
    }
}

/// Sends waiting jobs, oldest first, each to a worker the dispatcher
/// chooses among those with room (among all with `ignore_load`).
fn place<H>(
    ctx: &mut verdict::Ctx<'_, Balancer, H>,
    load: &mut BTreeMap<Node, usize>,
    waiting: &mut VecDeque<u8>,
) where
    H: verdict::MayChoose + verdict::MaySend<msg::Assign> + verdict::MayEmit<output::Assigned>,
{
    let config = ctx.config().clone();
    while let Some(&job) = waiting.front() {
        let room: Vec<Node> = ctx
            .nodes_of(Role::Worker)
            .filter(|w| config.ignore_load || load.get(w).copied().unwrap_or(0) < config.capacity)
            .collect();
        let Some(&worker) = ctx.choose_from(&room) else {
            return; // every worker is full: the job waits for a Done
        };
        waiting.pop_front();
        *load.entry(worker).or_insert(0) += 1;
        ctx.send(worker, msg::Assign(job));
        ctx.output(output::Assigned { job, worker });
    }
}

/// The cluster: a dispatcher and `workers` workers.
pub fn setup(workers: usize, config: Config) -> Result<Setup<Balancer>, SetupError> {
    Setup::with_config(&Sizes::new().with(Role::Worker, workers), config)
}

/// `jobs` jobs given to the dispatcher, one after another.
pub fn workload(setup: &Setup<Balancer>, jobs: u8) -> Workload<Balancer> {
    let steps = (0..jobs).map(|j| Step::send(input::Job(j))).collect();
    Workload::none(setup).with(setup, Node::Dispatcher, NodeWorkload::Script(steps))
}

/// The model the `check` subcommand explores.
pub fn model(workers: usize, jobs: u8, config: Config) -> Result<Model<Balancer>, SetupError> {
    let setup = setup(workers, config)?;
    let workload = workload(&setup, jobs);
    Ok(Model::new(setup, Faults::none(), workload))
}
