verdict::system! {
    system S;
    input enum Input { Go }
    output enum Output { Done, Failed }
    role Worker {
        on input Go emits(Done) {
            ctx.output(output::Failed);
        }
    }
}
fn main() {}
