verdict::system! {
    system S;
    input enum Input { Go }
    message enum Msg { Hello }
    role Client {
        on input Go sends(Helo) {}
        on message Hello from _ {}
    }
}
fn main() {}
