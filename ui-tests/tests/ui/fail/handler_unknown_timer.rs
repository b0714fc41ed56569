verdict::system! {
    system S;
    timers { Retry }
    role Client {
        on timer Retyr {}
    }
}
fn main() {}
