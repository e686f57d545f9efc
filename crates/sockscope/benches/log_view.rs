//! One headless egui frame of the log view over 1,000,000 records, in text and hex views.
//! Only the rows on screen are formatted, so this should take a few milliseconds.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use eframe::egui;
use sockscope::codec::TextEncoding;
use sockscope::engine::{ConnId, Direction};
use sockscope::gui::state::{Form, Tab, UiAction};
use sockscope::gui::{install_fonts, log_view};

fn filled_tab(records: usize) -> Tab {
    filled_tab_in(records, TextEncoding::UTF_8)
}

/// A tab whose log holds `records` received lines of Chinese and ASCII in `encoding`.
fn filled_tab_in(records: usize, encoding: TextEncoding) -> Tab {
    let form = Form {
        encoding,
        ..Form::default()
    };
    let tab = Tab::new(form, Arc::new(|| {}));
    let peer: SocketAddr = "192.168.1.20:502".parse().expect("address");
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    {
        let mut capture = tab.session.capture();
        for i in 0..records {
            let at = t0 + Duration::from_millis(i as u64);
            let line = format!("温度={}.{} 湿度=61% seq={i}\r\n", 20 + i % 10, i % 10);
            let bytes = encoding.encode(&line).expect("encodable");
            capture
                .log
                .push_data(at, Direction::Rx, Some(ConnId(1)), peer, &bytes);
        }
    }
    tab
}

fn frame(ctx: &egui::Context, tab: &mut Tab) {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1100.0, 720.0),
        )),
        ..Default::default()
    };
    let mut actions = Vec::new();
    // As the window does: the capture is locked for the frame.
    let mut tab = tab.ui();
    let _ = ctx.run_ui(input, |ui| {
        egui::CentralPanel::default().show(ui, |ui| {
            log_view::log_view_ui(ui, &mut tab, &mut actions);
        });
    });
}

fn log_view(c: &mut Criterion) {
    let ctx = egui::Context::default();
    install_fonts(&ctx);
    let mut tab = filled_tab(1_000_000);
    // The first frames lay out fonts and build the view index once.
    frame(&ctx, &mut tab);
    frame(&ctx, &mut tab);
    c.bench_function("log_view frame, 1M records, text", |b| {
        b.iter(|| frame(&ctx, &mut tab));
    });
    tab.form.rx_hex = true;
    frame(&ctx, &mut tab);
    c.bench_function("log_view frame, 1M records, hex", |b| {
        b.iter(|| frame(&ctx, &mut tab));
    });
    search(c, &mut tab, "UTF-8");
    // Rows are decoded when drawn: GBK text is the costlier decode.
    let mut tab = filled_tab_in(1_000_000, TextEncoding::GBK);
    frame(&ctx, &mut tab);
    frame(&ctx, &mut tab);
    c.bench_function("log_view frame, 1M records, GBK text", |b| {
        b.iter(|| frame(&ctx, &mut tab));
    });
    search(c, &mut tab, "GBK");
}

/// Find over the whole log, start to end: text that matches one record, and hex that matches
/// none.
fn search(c: &mut Criterion, tab: &mut Tab, encoding: &str) {
    for (query, hex) in [("湿度=61% SEQ=999999", false), ("0D 0A FF", true)] {
        let name = format!("find {query:?} in 1M {encoding} records");
        query.clone_into(&mut tab.view.search_text);
        tab.view.search_hex = hex;
        c.bench_function(&name, |b| {
            b.iter(|| {
                // The whole search: the GUI spreads it over frames, a slice each.
                tab.apply(UiAction::Search);
                while tab.view.searching.is_some() {
                    tab.ui().refresh_view();
                }
                tab.view.matches.len()
            });
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = log_view
}
criterion_main!(benches);
