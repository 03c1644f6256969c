// Links libstemma. STEMMA_LIB_DIR names the folder holding libstemma.so (e.g. <build>/capi);
// it is also put in the rpath so tests and examples run without LD_LIBRARY_PATH.
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=STEMMA_LIB_DIR");
    if let Ok(dir) = env::var("STEMMA_LIB_DIR") {
        println!("cargo:rustc-link-search=native={}", dir);
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
        println!("cargo:rerun-if-changed={}/libstemma.so", dir);
    }
    println!("cargo:rustc-link-lib=dylib=stemma");
}
