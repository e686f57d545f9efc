//! Puts the application icon into the Windows executable (nothing to do on other OSes: their
//! packages carry the icon beside the program).

fn main() {
    println!("cargo:rerun-if-changed=../../assets/icon/sockscope.ico");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        let mut resource = winresource::WindowsResource::new();
        resource.set_icon("../../assets/icon/sockscope.ico");
        if let Err(e) = resource.compile() {
            println!("cargo:warning=the icon was not put into the .exe: {e}");
        }
    }
}
