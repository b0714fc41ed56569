verdict::system! {
    system S;
    message enum Msg { Hello }
    role Server {
        on message Hello from Node::Client(i) {}
    }
    role Client(u8) {}
}
fn main() {}
