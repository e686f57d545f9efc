//! The Plot window: a number right-clicked in the field tree is plotted from what the log
//! holds and goes on with what a real peer sends; Pause freezes the drawn points while values
//! are still collected; the shortcut opens and closes the window.

use std::io::Write as _;

use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable as _;
use sockscope::gui::plot_ui::PlotAction;
use sockscope::gui::state::{Form, UiAction};

use super::{harness, run_until, server_with_clients};

/// A JT/T 808-2019 location report, speed 0x0042 (6.6 km/h).
const LOCATION: &str = "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e";
/// The same with speed 0x0100 (25.6 km/h).
const LOCATION_FAST: &str = "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b010000032501292233440202006401040000000c027e";

fn plotted(app: &sockscope::gui::App) -> Vec<f64> {
    app.tab()
        .view
        .plot
        .set
        .plotted
        .first()
        .map(|p| p.series.iter().map(|pt| pt.v).collect())
        .unwrap_or_default()
}

/// A JT/T 808 server tab that has received the slow report, then the fast one, from a real
/// client (kept open).
fn two_reports() -> (
    egui_kittest::Harness<'static, sockscope::gui::App>,
    Vec<std::net::TcpStream>,
) {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            protocol: "jt808".into(),
            rx_hex: true,
            ..Form::default()
        },
        1,
    );
    let slow = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let fast = sockscope_core::codec::hex::parse(LOCATION_FAST).unwrap();
    let mut sent = 0;
    for frame in [&slow, &fast] {
        clients[0].write_all(frame).unwrap();
        sent += frame.len() as u64;
        run_until(&mut harness, "the frame", |app| {
            app.tab().session.capture().counters.rx_bytes == sent
        });
    }
    (harness, clients)
}

#[test]
fn a_number_right_clicked_in_the_field_tree_is_plotted_live_and_pause_freezes_the_view() {
    let (mut harness, mut clients) = two_reports();
    let (first, end) = {
        let capture = harness.state().tab().session.capture();
        (capture.log.first_seq().unwrap(), capture.log.next_seq())
    };
    let report = (first..end)
        .find(|seq| {
            let capture = harness.state().tab().session.capture();
            capture
                .log
                .get_seq(*seq)
                .is_some_and(|r| !r.bytes.is_empty())
        })
        .unwrap();
    harness
        .state_mut()
        .tab_mut()
        .apply(UiAction::SelectRecord(Some(report)));
    harness.run();
    // Deep in the tree: scrolled into view first, as a user would.
    harness.get_by_label("Speed: 6.6 km/h").scroll_to_me();
    harness.run();
    harness.get_by_label("Speed: 6.6 km/h").click_secondary();
    harness.run();
    assert!(
        harness.query_by_label("Show as column").is_some(),
        "no menu"
    );
    harness.get_by_label("Plot").click();
    harness.run();
    // Filled from the log: both reports, scaled as the core reads them.
    run_until(&mut harness, "the series", |app| {
        plotted(app) == [6.6, 25.6]
    });
    assert!(harness.state().tab().view.plot.open);
    harness.get_by_label("Speed [km/h] ×");
    harness.get_by_label_contains("2 points");

    // Paused: the next report is collected, not drawn, and the window says so.
    harness.get_by_label("Pause plot").click();
    harness.run();
    harness.get_by_label("Paused: new values are collected, not drawn");
    let slow = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let sent = harness.state().tab().session.capture().counters.rx_bytes + slow.len() as u64;
    clients[0].write_all(&slow).unwrap();
    run_until(&mut harness, "the third report", |app| {
        app.tab().session.capture().counters.rx_bytes == sent && plotted(app).len() == 3
    });
    let view = &harness.state().tab().view.plot;
    let last = view.set.plotted[0].series.last().unwrap().seq;
    assert!(
        last >= view.paused_at.unwrap(),
        "the new value is after the pause"
    );
    harness.get_by_label("Pause plot").click();
    harness.run();
    assert!(
        harness
            .query_by_label("Paused: new values are collected, not drawn")
            .is_none()
    );

    // Export: time, sample, a column per field with its unit; a line per report.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plot.csv");
    harness
        .state_mut()
        .tab_mut()
        .apply(UiAction::Plot(PlotAction::Export(path.clone())));
    harness.run();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with("\u{feff}time,Sample,Speed (body.speed) [km/h]"),
        "{}",
        lines[0]
    );
    assert!(lines[1].ends_with(",1,6.6"), "{}", lines[1]);
    assert!(lines[2].ends_with(",2,25.6"), "{}", lines[2]);
    harness.get_by_label_contains("Plot exported: 3 lines to");

    // The shortcut closes the window and opens it again; the series stay.
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::P);
    harness.run();
    assert!(!harness.state().tab().view.plot.open);
    assert!(harness.query_by_label("Speed [km/h] ×").is_none());
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::P);
    harness.run();
    harness.get_by_label("Speed [km/h] ×").click();
    harness.run();
    assert!(harness.state().tab().view.plot.set.plotted.is_empty());
}

/// A log of 100,000 reports when the field is added: the window draws at once and says it is
/// catching up (with a count) rather than decoding them all in one frame, then gets there.
#[test]
fn a_field_added_over_a_long_log_catches_up_a_slice_per_frame() {
    let mut harness = harness(Form {
        protocol: "jt808".into(),
        rx_hex: true,
        ..Form::default()
    });
    harness.run();
    let report = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let peer = "127.0.0.1:7000".parse().unwrap();
    {
        let tab = harness.state().tab();
        let mut capture = tab.session.capture();
        for _ in 0..100_000 {
            capture.log.push_data(
                std::time::SystemTime::now(),
                sockscope::engine::Direction::Rx,
                None,
                peer,
                &report,
            );
        }
    }
    let jt808 = sockscope_core::protocol::builtin("jt808").unwrap();
    let speed = jt808
        .decode(&report, sockscope_core::protocol::Dir::Unknown)
        .get("body.speed")
        .unwrap()
        .node;
    let pick = sockscope::capture::series::Pick {
        path: String::new(),
        node: speed,
    };
    harness
        .state_mut()
        .tab_mut()
        .apply(UiAction::Plot(PlotAction::Add(pick, "Speed".into())));
    let started = std::time::Instant::now();
    harness.step();
    let first_frame = started.elapsed();
    let behind = harness.state().tab().view.plot.behind;
    assert!(
        behind > 0,
        "decoded 100,000 reports in one frame ({first_frame:?})"
    );
    harness.step();
    harness.get_by_label_contains("catching up:");
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(2);
    while harness.state().tab().view.plot.behind > 0 {
        assert!(std::time::Instant::now() < deadline, "never caught up");
        harness.step();
    }
    harness.step();
    assert_eq!(plotted(harness.state()).len(), 100_000);
    assert!(harness.query_by_label_contains("catching up:").is_none());
    harness.get_by_label_contains("100000 points");
}

/// The Add list holds the numeric fields of the frames the log holds, each with its path
/// (two fields of one name told apart), and any of them, picked, plots its values. It listed
/// every number of the spec: a Speed of a message that never came plotted nothing and said
/// nothing, beside the one that would have worked.
#[test]
fn each_field_the_add_list_offers_plots_the_frames_of_the_log() {
    let (mut harness, _clients) = two_reports();
    harness
        .state_mut()
        .tab_mut()
        .apply(UiAction::Plot(PlotAction::Toggle));
    harness.run();
    harness.get_by_label("Add field").click();
    harness.run();
    // A field of the reports, by its path; none of a message that never came.
    assert!(harness.query_by_label("Province · body.province").is_none());
    harness.get_by_label("Speed [km/h] · body.speed").click();
    harness.run();
    run_until(&mut harness, "the series", |app| {
        plotted(app) == vec![6.6, 25.6]
    });
}
