verdict::system! {
    system S;
    input enum Input { Go }
    role Client {
        state { held: bool = false }
        on input Go reads(held) writes(held) {}
    }
}
fn main() {}
