verdict::system! {
    system S;
    role Client {
        state { held: bool = false }
    }
    invariant one_holder reads(Clients.held) { true }
}
fn main() {}
