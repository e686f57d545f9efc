//! One headless egui frame of the Plot window's plots over a series of 1,000,000 points:
//! min/max decimation per pixel column, then egui_plot's layout and the tessellation of what it
//! draws (no GPU). Beside it, the reference: the same frame drawing every point undecimated.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use eframe::egui;
use sockscope::capture::LogStore;
use sockscope::capture::series::Pick;
use sockscope::codec::TextEncoding;
use sockscope::gui::install_fonts;
use sockscope::gui::plot_ui::{PlotView, plots_ui};

/// Points in the series.
const POINTS: usize = 1_000_000;

/// A Plot window's state with one field of `POINTS` values, one a millisecond (a noisy sine
/// with a few spikes).
fn filled_view() -> PlotView {
    let log = LogStore::new(usize::MAX, TextEncoding::default());
    let mut view = PlotView::default();
    let pick = Pick {
        path: "body.value".into(),
        node: None,
    };
    view.set.add(pick, "Voltage".into(), &log);
    let series = &mut view.set.plotted[0].series;
    let t0 = 1_700_000_000.0;
    for i in 0..POINTS {
        let x = i as f64;
        let spike = if i % 99_991 == 0 { 30.0 } else { 0.0 };
        let v = 220.0 + 5.0 * (x / 5_000.0).sin() + ((i * 7919) % 13) as f64 * 0.1 + spike;
        series.push(t0 + x / 1000.0, i as u64, v);
    }
    view
}

fn input() -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1100.0, 720.0),
        )),
        ..Default::default()
    }
}

/// One frame of the plots, tessellated.
fn frame(ctx: &egui::Context, view: &mut PlotView) -> usize {
    let out = ctx.run_ui(input(), |ui| {
        egui::CentralPanel::default().show(ui, |ui| plots_ui(ui, view, None));
    });
    ctx.tessellate(out.shapes, out.pixels_per_point).len()
}

/// The reference: the same plot drawing every point.
fn frame_undecimated(ctx: &egui::Context, points: &[[f64; 2]]) -> usize {
    let out = ctx.run_ui(input(), |ui| {
        egui::CentralPanel::default().show(ui, |ui| {
            egui_plot::Plot::new("reference").show(ui, |plot_ui| {
                plot_ui.line(egui_plot::Line::new(
                    "Voltage",
                    egui_plot::PlotPoints::from(points.to_vec()),
                ));
            });
        });
    });
    ctx.tessellate(out.shapes, out.pixels_per_point).len()
}

fn plot(c: &mut Criterion) {
    let ctx = egui::Context::default();
    install_fonts(&ctx);
    let mut view = filled_view();
    frame(&ctx, &mut view);
    frame(&ctx, &mut view);
    c.bench_function("plot frame, 1M points, decimated", |b| {
        b.iter(|| frame(&ctx, &mut view));
    });
    let points: Vec<[f64; 2]> = view.set.plotted[0]
        .series
        .iter()
        .map(|p| [p.t, p.v])
        .collect();
    let ctx = egui::Context::default();
    install_fonts(&ctx);
    frame_undecimated(&ctx, &points);
    c.bench_function("plot frame, 1M points, every point (reference)", |b| {
        b.iter(|| frame_undecimated(&ctx, &points));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = plot
}
criterion_main!(benches);
