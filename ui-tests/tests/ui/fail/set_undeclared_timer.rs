
verdict::system! {
    system S;
    input enum Input { Go }
    timers { Retry, Heartbeat }
    role Worker {
        on input Go sets(Retry) {
            ctx.set_timer(timer::Heartbeat, std::time::Duration::from_millis(10));
        }
        on timer Retry {}
        on timer Heartbeat {}
    }
}
fn main() {}
