verdict::system! {
    system S;
    input enum Input { Go }
    message enum Msg { Hello, Bye }
    role Client {
        on input Go sends(Hello) {
            ctx.send(Node::Server, msg::Hello);
            ctx.send(Node::Server, msg::Bye);
        }
    }
    role Server {
        on message Hello from _ {}
        on message Bye from _ {}
    }
}
fn main() {}
