verdict::system! {
    system S;
    role Client(u8) {
        state { held: bool = false }
    }
    invariant one_holder reads(Client.holds) { true }
}
fn main() {}
