verdict::system! {
    system S;
    input enum Input { Go }
    message enum Msg { Hello }
    role Client {
        on input Go sends(Msg::Hello) {}
        on message Hello from _ {}
    }
}
fn main() {}
