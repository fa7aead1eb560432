//! Gives libmeetkit.so a versioned SONAME, so a program linked against it records which ABI
//! it needs (`NEEDED libmeetkit.so.0.1`) and keeps working when a compatible release
//! replaces the file, while an incompatible one is refused by the loader instead of crashing.
//!
//! The version suffix follows cargo-c (what rustls-ffi and rav1e ship with): Cargo's semver
//! compatibility class, `MAJOR` from 1.0 on, `0.MINOR` before (a 0.2 release may break 0.1's
//! ABI), `0.0.PATCH` for 0.0.x. install.sh installs `libmeetkit.so.X.Y.Z` with the SONAME
//! link and the `libmeetkit.so` link beside it, and computes the same name (`soname` below is
//! kept in step with it by bindings-c/test.sh, which reads the SONAME back with readelf).

fn main() {
    let part = |name: &str| std::env::var(name).expect("cargo sets CARGO_PKG_VERSION_*");
    let (major, minor, patch) =
        (part("CARGO_PKG_VERSION_MAJOR"), part("CARGO_PKG_VERSION_MINOR"), part("CARGO_PKG_VERSION_PATCH"));
    let suffix = match (major.as_str(), minor.as_str()) {
        ("0", "0") => format!("0.0.{patch}"),
        ("0", _) => format!("0.{minor}"),
        _ => major,
    };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmeetkit.so.{suffix}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
