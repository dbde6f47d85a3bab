//! Does nothing: `warmcheck bench startup` times its exec as the floor of a Rust program's start.
fn main() {}
