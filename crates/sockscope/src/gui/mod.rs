//! The egui window. Widgets turn state into pixels and clicks into [`state::UiAction`]s; what an
//! action does lives in [`state`], which has no egui in it.

mod actions;
mod app;
pub mod compose_ui;
mod cond_ui;
pub mod dialogs;
mod field_export;
mod fields;
mod fonts;
mod framing_ui;
pub use crate::i18n;
mod load_ui;
pub mod log_view;
pub mod model;
mod multicast_ui;
pub mod plot_ui;
mod protocol_pick;
mod protocol_ui;
mod relay_ui;
mod rules_ui;
mod script_ui;
mod send_options;
mod send_panel;
mod settings;
mod show_fields;
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

/// How the window is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renderer {
    /// OpenGL 2 or later (glow).
    Glow,
    /// wgpu: Direct3D 12 on Windows, with the WARP software rasteriser where there is no GPU.
    Wgpu,
}

/// Whether this build can draw with wgpu (the Windows build; the others draw with OpenGL).
pub const HAS_WGPU: bool = cfg!(windows);

impl Renderer {
    /// The renderers to try, in order: the one named by `SOCKSCOPE_RENDERER` (`glow`, `wgpu`),
    /// or OpenGL and then — on Windows, where a PC or VM without an OpenGL 2 driver (a remote
    /// desktop session, a VM without 3D) gets no OpenGL window — wgpu.
    pub fn order(asked: Option<&str>, has_wgpu: bool) -> Vec<Renderer> {
        match asked.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            Some("glow" | "opengl" | "gl") => vec![Renderer::Glow],
            Some("wgpu" | "d3d12" | "dx12") if has_wgpu => vec![Renderer::Wgpu],
            _ if has_wgpu => vec![Renderer::Glow, Renderer::Wgpu],
            _ => vec![Renderer::Glow],
        }
    }

    fn eframe(self) -> eframe::Renderer {
        match self {
            #[cfg(windows)]
            Renderer::Wgpu => eframe::Renderer::Wgpu,
            _ => eframe::Renderer::Glow,
        }
    }
}

/// The app's name for the OS: its window class, and the folder of its saved state.
const APP_ID: &str = "sockscope";

/// Opens the window (with `profile` in a tab, if given) and runs until it is closed. A
/// renderer that cannot start (no OpenGL 2 driver) gives way to the next one.
pub fn run(profile: Option<&std::path::Path>) -> eframe::Result {
    // Held until the window closes: the saved workspace is this window's.
    let claim = claim_workspace();
    let second = matches!(claim, Claim::HeldElsewhere);
    let asked = std::env::var("SOCKSCOPE_RENDERER").ok();
    let order = Renderer::order(asked.as_deref(), HAS_WGPU);
    let mut result = Ok(());
    for (n, renderer) in order.iter().enumerate() {
        let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        result = run_with(
            *renderer,
            profile.map(std::path::Path::to_path_buf),
            second,
            &started,
        );
        let next = order.get(n + 1);
        match (&result, next) {
            // The window ran (whatever it returned at the end), or nothing is left to try.
            (Ok(()), _) | (Err(_), None) => break,
            (Err(_), Some(_)) if started.load(std::sync::atomic::Ordering::Relaxed) => break,
            (Err(e), Some(next)) => {
                eprintln!(
                    "{}",
                    i18n::tf(
                        i18n::S::RendererFellBack,
                        &[&format!("{renderer:?}"), &e, &format!("{next:?}")]
                    )
                );
            }
        }
    }
    drop(claim);
    result
}

/// Whether this window may keep the saved workspace.
enum Claim {
    /// It is this window's (the lock is held while the file stays open).
    Ours(#[expect(dead_code, reason = "held: the lock goes when the file closes")] std::fs::File),
    /// Another window holds it: this one is a second window.
    HeldElsewhere,
    /// It cannot be told (no data folder): the workspace is used as before.
    Unknown,
}

/// The lock file beside the saved workspace.
fn lock_path() -> Option<PathBuf> {
    eframe::storage_dir(APP_ID).map(|dir| dir.join("workspace.lock"))
}

/// Takes the saved workspace for this window. A profile double-clicked while SockScope is
/// open starts a second window: it restored the first one's tabs (and re-opened their ports:
/// "port in use"), and whichever closed last overwrote the other's workspace (a tab was
/// lost). A second window keeps its tabs apart instead.
fn claim_workspace() -> Claim {
    let Some(path) = lock_path() else {
        return Claim::Unknown;
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    else {
        return Claim::Unknown;
    };
    match file.try_lock() {
        Ok(()) => Claim::Ours(file),
        Err(std::fs::TryLockError::WouldBlock) => Claim::HeldElsewhere,
        Err(std::fs::TryLockError::Error(_)) => Claim::Unknown,
    }
}

/// Where a second window keeps its own tabs (started afresh each time: the tabs of an earlier
/// second window would open their ports again).
fn second_window_storage() -> Option<PathBuf> {
    let path = eframe::storage_dir(APP_ID)?.join("second-window.ron");
    let _ = std::fs::remove_file(&path);
    Some(path)
}

/// Runs the window with `renderer`; `started` is set once the app exists (the renderer
/// worked).
fn run_with(
    renderer: Renderer,
    profile: Option<PathBuf>,
    second: bool,
    started_flag: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> eframe::Result {
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
        .with_app_id(APP_ID);
    // The icon is ours and valid; were it not, the window would just have the default one.
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let options = eframe::NativeOptions {
        viewport: viewport
            .with_inner_size([1100.0, 720.0])
            .with_min_inner_size([720.0, 480.0]),
        renderer: renderer.eframe(),
        persistence_path: if second {
            second_window_storage()
        } else {
            None
        },
        ..Default::default()
    };
    let flag = std::sync::Arc::clone(started_flag);
    eframe::run_native(
        TITLE,
        options,
        Box::new(move |cc| {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
            let mut app = App::new(cc);
            if let Some(path) = &profile {
                app.open_profile(path);
            }
            // Said after the profile opened, in its tab (the one shown).
            if second {
                app.say_second_window();
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

#[cfg(test)]
mod tests {
    use super::Renderer;

    #[test]
    fn opengl_gives_way_to_wgpu_where_wgpu_is_built_and_the_user_may_choose() {
        assert_eq!(
            Renderer::order(None, true),
            [Renderer::Glow, Renderer::Wgpu]
        );
        assert_eq!(Renderer::order(None, false), [Renderer::Glow]);
        assert_eq!(Renderer::order(Some(" WGPU "), true), [Renderer::Wgpu]);
        assert_eq!(Renderer::order(Some("glow"), true), [Renderer::Glow]);
        // A renderer this build has not: the usual order (and OpenGL alone off Windows).
        assert_eq!(Renderer::order(Some("wgpu"), false), [Renderer::Glow]);
        assert_eq!(
            Renderer::order(Some("vulkan"), true),
            [Renderer::Glow, Renderer::Wgpu]
        );
    }
}
