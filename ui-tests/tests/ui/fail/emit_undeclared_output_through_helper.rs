verdict::system! {
    system S;
    input enum Input { Go }
    output enum Output { Done, Failed }
    role Worker {
        on input Go emits(Done) {
            let outcome = if true { output::Failed } else { output::Failed };
            ctx.output(outcome);
        }
    }
}
fn main() {}
