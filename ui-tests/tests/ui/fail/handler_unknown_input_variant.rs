verdict::system! {
    system S;
    input enum Input { Lock, Unlock }
    role Client {
        on input Lok {}
    }
}
fn main() {}
