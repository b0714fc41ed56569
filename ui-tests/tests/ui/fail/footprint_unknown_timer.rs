verdict::system! {
    system S;
    input enum Input { Go }
    timers { Retry }
    role Client {
        on input Go sets(Retyr) {}
    }
}
fn main() {}
