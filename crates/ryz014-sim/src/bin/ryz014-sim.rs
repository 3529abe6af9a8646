//! The simulator binary (skeleton).
fn main() {}
