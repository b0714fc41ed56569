verdict::system! {
    system S;
    input enum Input { Go }
    message enum Msg { Hello, Grant }
    role Client {
        on input Go sends(Hello) { ctx.send(Node::Server, msg::Hello); }
    }
    role Server {
        on message Hello from client sends(Grant) { ctx.send(client, msg::Grant); }
    }
}
fn main() {}
