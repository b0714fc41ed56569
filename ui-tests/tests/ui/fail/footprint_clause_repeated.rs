verdict::system! {
    system S;
    input enum Input { Go }
    role Client {
        state { a: u8 = 0, b: u8 = 0 }
        on input Go reads(a) reads(b) {}
    }
}
fn main() {}
