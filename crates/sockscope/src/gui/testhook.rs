//! Where chosen widgets are, for the real-window tests: with `SOCKSCOPE_TEST_RECTS=FILE` set,
//! every frame rewrites FILE with one line per tagged widget — `name x y width height`, in
//! window pixels — so a test driving the window with xdotool clicks what it means to click,
//! not a guessed coordinate. Unset (always, for users), tagging costs one check.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use eframe::egui::{self, Rect};

/// The file to write, if the tests asked for one.
fn target() -> Option<&'static PathBuf> {
    static TARGET: OnceLock<Option<PathBuf>> = OnceLock::new();
    TARGET
        .get_or_init(|| std::env::var_os("SOCKSCOPE_TEST_RECTS").map(PathBuf::from))
        .as_ref()
}

#[derive(Clone, Default)]
struct Rects(BTreeMap<String, Rect>, BTreeMap<String, String>);

fn id() -> egui::Id {
    egui::Id::unique("sockscope-test-rects")
}

/// Notes where `response`'s widget is, under `name`.
pub fn tag(ui: &egui::Ui, response: &egui::Response, name: &str) {
    tag_rect(ui, response.rect, name);
}

/// Notes a region (the log's rows, say) under `name`.
pub fn tag_rect(ui: &egui::Ui, rect: Rect, name: &str) {
    if target().is_none() {
        return;
    }
    ui.ctx().data_mut(|d| {
        d.get_temp_mut_or_default::<Rects>(id())
            .0
            .insert(name.to_owned(), rect);
    });
}

/// Notes a value of this frame (the log's newest record, say) under `name`; written as
/// `name = value`.
pub fn value(ctx: &egui::Context, name: &str, value: impl std::fmt::Display) {
    if target().is_none() {
        return;
    }
    ctx.data_mut(|d| {
        d.get_temp_mut_or_default::<Rects>(id())
            .1
            .insert(name.to_owned(), value.to_string());
    });
}

/// True when the tests asked for tags (so callers can skip work done only for them).
pub fn wanted() -> bool {
    target().is_some()
}

/// Writes this frame's tags (call once, at the end of the frame).
pub fn write(ctx: &egui::Context) {
    let Some(path) = target() else { return };
    let rects = ctx.data_mut(|d| std::mem::take(d.get_temp_mut_or_default::<Rects>(id())));
    let scale = ctx.pixels_per_point();
    let mut text = String::new();
    for (name, r) in &rects.0 {
        use std::fmt::Write as _;
        let _ = writeln!(
            text,
            "{name} {:.0} {:.0} {:.0} {:.0}",
            r.min.x * scale,
            r.min.y * scale,
            r.width() * scale,
            r.height() * scale
        );
    }
    for (name, value) in &rects.1 {
        use std::fmt::Write as _;
        let _ = writeln!(text, "{name} = {value}");
    }
    // Written whole, then renamed: a test never reads half a file.
    let partial = path.with_extension("partial");
    if std::fs::write(&partial, text).is_ok() {
        let _ = std::fs::rename(&partial, path);
    }
}
