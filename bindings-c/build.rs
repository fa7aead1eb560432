//! Gives libmeetkit.so the SONAME `libmeetkit.so`, so programs linked against an installed
//! copy record that name (not the build path) and find it through the loader's search path.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmeetkit.so");
    }
}
