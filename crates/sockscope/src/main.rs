//! Starts the SockScope window; everything else lives in the library.

fn main() -> eframe::Result {
    sockscope::gui::run()
}
