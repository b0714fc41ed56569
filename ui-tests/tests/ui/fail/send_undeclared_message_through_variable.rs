verdict::system! {
    system S;
    input enum Input { Go }
    message enum Msg { Hello, Bye }
    role Client {
        on input Go sends(Hello) {
            let farewell = msg::Bye;
            ctx.send(Node::Server, farewell);
        }
    }
    role Server {
        on message Hello from _ {}
        on message Bye from _ {}
    }
}
fn main() {}
