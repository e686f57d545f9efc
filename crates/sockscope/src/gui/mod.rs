//! The egui window. Widgets turn state into pixels and clicks into [`state::UiAction`]s; what an
//! action does lives in [`state`], which has no egui in it.

mod actions;
mod app;
mod cond_ui;
pub mod dialogs;
mod fonts;
mod framing_ui;
pub use crate::i18n;
mod load_ui;
pub mod log_view;
pub mod model;
mod multicast_ui;
mod protocol_ui;
mod relay_ui;
mod rules_ui;
mod script_ui;
mod send_options;
mod send_panel;
mod settings;
pub mod state;
mod status_bar;
mod tabs;
mod testhook;
mod tls_ui;
mod tools;
mod widgets;

use std::path::PathBuf;

pub use actions::Action;
pub use app::{App, SavedTab, Theme, Workspace};
pub use dialogs::FilePicker;
pub use fonts::install as install_fonts;
pub use model::{FileRequest, Notice};
pub use tabs::TabEntry;

/// The application icon (256 px), made by `scripts/make-icon`.
pub(crate) const ICON_PNG: &[u8] = include_bytes!("../../../../assets/icon/sockscope-256.png");

/// An address as the window shows it: an IPv4-mapped IPv6 peer (`[::ffff:10.0.0.7]:5000`,
/// what a dual-stack `::` socket reports for an IPv4 client) as the IPv4 address it is.
pub fn shown_addr(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    match addr {
        std::net::SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => std::net::SocketAddr::new(v4.into(), v6.port()),
            None => addr,
        },
        std::net::SocketAddr::V4(_) => addr,
    }
}

/// The window title.
pub const TITLE: &str = "SockScope — 网络调试助手";

/// Opens the window (with `profile` in a tab, if given) and runs until it is closed.
pub fn run(profile: Option<PathBuf>) -> eframe::Result {
    let started = std::time::Instant::now();
    // `scripts/perf` measures cold start: with this set, the first frame prints how long it
    // took and closes the window.
    let time_first_frame = std::env::var_os("SOCKSCOPE_TIME_FIRST_FRAME").is_some();
    // `scripts/perf` times ingest in the real window: close after this many bytes.
    let exit_after_rx = std::env::var("SOCKSCOPE_EXIT_AFTER_RX")
        .ok()
        .and_then(|n| n.parse::<u64>().ok());
    let mut viewport = eframe::egui::ViewportBuilder::default()
        .with_title(TITLE)
        .with_app_id("sockscope");
    // The icon is ours and valid; were it not, the window would just have the default one.
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let options = eframe::NativeOptions {
        viewport: viewport
            .with_inner_size([1100.0, 720.0])
            .with_min_inner_size([720.0, 480.0]),
        ..Default::default()
    };
    eframe::run_native(
        TITLE,
        options,
        Box::new(move |cc| {
            let mut app = App::new(cc);
            if let Some(path) = &profile {
                app.open_profile(path);
            }
            if time_first_frame {
                app = app.timing_first_frame(started);
            }
            if let Some(bytes) = exit_after_rx {
                app = app.exit_after_rx(bytes);
            }
            Ok(Box::new(app))
        }),
    )
}

/// The language the OS is set to.
pub fn system_lang() -> i18n::Lang {
    sys_locale::get_locale().map_or(i18n::Lang::En, |tag| i18n::Lang::from_locale(&tag))
}
