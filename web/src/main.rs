//! Entry point of the web page: Trunk builds this binary for `wasm32-unknown-unknown`, where it
//! mounts the Yew app. Natively it only says how to build the page (so the workspace stays green).

#[cfg(target_arch = "wasm32")]
fn main() {
    ryz014_web::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    println!("ryz014-web is a browser app: build it with `trunk build --release` from the repository root");
}
