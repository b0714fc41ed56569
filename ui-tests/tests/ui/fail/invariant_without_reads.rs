verdict::system! {
    system S;
    role Client(u8) {
        state { held: bool = false }
    }
    invariant always_true { true }
}
fn main() {}
