//! Fonts: egui's defaults plus a bundled Chinese subset, so Chinese shows as Chinese on every
//! OS, in a fresh Linux without CJK fonts, and in headless UI tests (which load no system fonts).

use eframe::egui::{self, FontData, FontFamily, FontInsert, FontPriority, InsertFontFamily};

/// Noto Sans CJK SC Regular cut down to ASCII + GB2312 + CJK punctuation
/// (`scripts/make-font-subset`; licence in `assets/fonts/LICENSE-OFL.txt`).
const CJK_SUBSET: &[u8] = include_bytes!("../../../../assets/fonts/NotoSansSC-subset.otf");
const CJK_NAME: &str = "NotoSansSC-subset";

/// Adds the bundled CJK font after egui's own fonts in both families. Characters it lacks
/// (rare Hanzi, other scripts) still come from the OS through eframe's system font provider.
pub fn install(ctx: &egui::Context) {
    let families = [FontFamily::Proportional, FontFamily::Monospace]
        .into_iter()
        .map(|family| InsertFontFamily {
            family,
            priority: FontPriority::Lowest,
        })
        .collect();
    ctx.add_font(FontInsert {
        name: CJK_NAME.into(),
        data: FontData::from_static(CJK_SUBSET),
        families,
    });
}
