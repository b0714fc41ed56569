verdict::system! {
    system S;
    role Client(u8) {
        state { held: bool = false }
    }
    invariant one_holder reads(held) { true }
}
fn main() {}
