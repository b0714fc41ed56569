verdict::system! {
    system S;
    input enum Input { Go }
    timers { Retry, Heartbeat }
    role Worker {
        on input Go sets(Retry) {
            let which = timer::Heartbeat;
            ctx.cancel_timer(which);
        }
    }
}
fn main() {}
