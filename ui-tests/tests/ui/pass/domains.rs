// Field domains for the induction search: a range on an integer, values
// listed for any type, and booleans (both values) without an attribute.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Idle,
    Busy,
}

verdict::system! {
    system S;
    role Client(u8) {
        state {
            #[domain(0..=3)]
            level: u8 = 0,
            #[domain(0..2)]
            tries: i32 = 0,
            #[domain(None, Some(1), Some(2))]
            last: Option<u8> = None,
            #[domain(Phase::Idle, Phase::Busy)]
            phase: Phase = Phase::Idle,
            held: bool = false,
        }
    }
}

fn main() {
    use verdict::System;
    let start = State::Client(ClientState {
        level: 0,
        tries: 0,
        last: None,
        phase: Phase::Idle,
        held: false,
    });
    let mut out = Vec::new();
    S::vary(&start, &mut out);
    // 3 other levels, 1 other try, 2 other lasts, 1 other phase, 1 other held.
    assert_eq!(out.len(), 8);
}
