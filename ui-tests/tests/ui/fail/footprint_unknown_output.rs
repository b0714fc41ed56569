verdict::system! {
    system S;
    input enum Input { Go }
    output enum Output { Done }
    role Client {
        on input Go emits(Finished) {}
    }
}
fn main() {}
