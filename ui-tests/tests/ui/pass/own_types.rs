//! Inputs, outputs and messages of the user's own types.

use serde::{Deserialize, Serialize};
use verdict::prelude::*;

/// A command defined outside the system.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    Add(u32),
    Reset,
}

/// A reply defined outside the system.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Total(pub u32);

/// A network message defined outside the system.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Delta(pub i64);

verdict::system! {
    system Adder;

    input type Input = Command;
    output type Output = Total;
    message type Msg = Delta;

    role Front {
        state { total: u32 = 0 }

        on input cmd: Input writes(total) emits(Output) sends(Msg) {
            match cmd {
                Command::Add(n) => *self.total += n,
                Command::Reset => *self.total = 0,
            }
            ctx.send(Node::Mirror, Delta(*self.total as i64));
            ctx.output(Total(*self.total));
        }
    }

    role Mirror {
        state { last: i64 = 0 }

        on message d: Msg from _ writes(last) {
            *self.last = d.0;
        }
    }

    invariant mirror_trails reads(Front.total, Mirror.last) {
        self.mirror.last <= self.front.total as i64
    }
}

fn main() {
    assert_eq!(Adder::meta().inputs, &["Input"]);
    let setup = Setup::<Adder>::new(&Sizes::new()).unwrap();
    let w = Workload::none(&setup).with(
        &setup,
        Node::Front,
        NodeWorkload::Any { choices: vec![Command::Add(1), Command::Reset], max: 3 },
    );
    let report = check(&Model::new(setup, Faults::none(), w), &CheckOptions::default());
    // Reset makes the front fall below the mirror until the delta arrives.
    assert!(!report.passed());
}

use verdict::NodeWorkload;
