//! Two systems side by side, each in its own module.

mod ping {
    verdict::system! {
        pub system Ping;
        message enum Msg { Hello, Bye }
        role A {
            on start sends(Hello) { ctx.send(Node::B, msg::Hello); }
            on message Bye from b {}
        }
        role B {
            state { got: bool = false }
            on message Hello from a writes(got) sends(Bye) { *self.got = true; ctx.send(a, msg::Bye); }
        }
        invariant nothing_wrong reads(B.got) { let _ = self.b.got; true }
    }
}

mod pong {
    verdict::system! {
        pub system Pong;
        role Solo {
            state { n: u8 = 0 }
            invariant small reads(n) { self.n < 10 }
        }
    }
}

fn main() {
    use verdict::prelude::*;
    let s = Setup::<ping::Ping>::new(&Sizes::new()).unwrap();
    let w = Workload::none(&s);
    assert!(check(&Model::new(s, Faults::none(), w), &CheckOptions::default()).passed());
    let s = Setup::<pong::Pong>::new(&Sizes::new()).unwrap();
    let w = Workload::none(&s);
    assert!(check(&Model::new(s, Faults::none(), w), &CheckOptions::default()).passed());
}
