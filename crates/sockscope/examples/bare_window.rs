//! A window with nothing of SockScope's in it: one label, drawn by eframe with the renderer
//! SockScope starts with (glow). The Windows set measures its idle CPU under Wine beside
//! SockScope's, to tell what the windowing layer costs there from what the program adds.
//!
//!     cargo run --example bare_window

fn main() -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("bare eframe window")
            .with_inner_size([400.0, 200.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_ui_native("bare eframe window", options, |ui, _frame| {
        ui.label("An idle eframe window.");
    })
}
