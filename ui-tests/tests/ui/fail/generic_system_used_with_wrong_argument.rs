// A generic system's bounds are checked where it is used.
use verdict::prelude::*;

pub trait Merge: verdict::Data + Default {}
impl Merge for u8 {}

verdict::system! {
    system Gossip<V: Merge>;
    role Replica {
        state { value: V = V::default() }
    }
}
fn main() {
    let _ = Setup::<Gossip<String>>::new(&Sizes::new());
}
