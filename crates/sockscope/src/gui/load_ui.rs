//! The Load window (压力测试, Tools > Load generator): the generator of `sockscope bench` on a
//! thread of its own, its live counts read once a frame, a chart of requests and replies per
//! second and one of latency, and the report saved as CSV or JSON.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use eframe::egui::{self, RichText};
use egui_plot::{Legend, Line, Plot, PlotPoints};
use sockscope_core::bench::{self, Mode, Progress, Report, Spec};
use sockscope_core::codec::hex;
use sockscope_core::i18n::{S, t, tf};

/// A run under way.
struct Running {
    stop: Arc<AtomicBool>,
    progress: Arc<Mutex<Progress>>,
    thread: Option<JoinHandle<Report>>,
}

/// The window's fields and its run.
pub struct LoadView {
    /// The window is open.
    pub open: bool,
    /// `HOST:PORT`.
    pub target: String,
    /// UDP datagrams instead of TCP.
    pub udp: bool,
    /// What to wait for.
    pub mode: Mode,
    /// Connections at once.
    pub connections: u32,
    /// A new connection per request.
    pub per_request: bool,
    /// Messages per second, 0: no limit.
    pub rate: u32,
    /// Ramp, seconds.
    pub ramp_s: f32,
    /// Duration, seconds.
    pub duration_s: f32,
    /// Requests to send, 0: as many as the duration allows.
    pub count: u64,
    /// The request.
    pub payload: String,
    /// The request is hex.
    pub payload_hex: bool,
    /// Reply timeout, ms.
    pub timeout_ms: u32,
    running: Option<Running>,
    /// The last run's report.
    pub report: Option<Report>,
    /// What was wrong with the fields at Start.
    pub error: Option<String>,
}

impl Default for LoadView {
    fn default() -> Self {
        Self {
            open: false,
            target: "127.0.0.1:8080".into(),
            udp: false,
            mode: Mode::PingPong,
            connections: 1,
            per_request: false,
            rate: 0,
            ramp_s: 0.0,
            duration_s: 10.0,
            count: 0,
            payload: "ping".into(),
            payload_hex: false,
            timeout_ms: 1000,
            running: None,
            report: None,
            error: None,
        }
    }
}

impl LoadView {
    /// True while a run goes on.
    pub fn running(&self) -> bool {
        self.running.is_some()
    }

    fn spec(&self) -> Result<Spec, String> {
        let target = std::net::ToSocketAddrs::to_socket_addrs(self.target.trim())
            .map_err(|e| tf(S::CliCannotResolve, &[&self.target, &e]))?
            .next()
            .ok_or_else(|| tf(S::CliCannotResolve, &[&self.target, &"-"]))?;
        let payload = if self.payload_hex {
            hex::parse(&self.payload).map_err(|e| e.to_string())?
        } else {
            sockscope_core::codec::escape::parse(
                &self.payload,
                sockscope_core::codec::TextEncoding::UTF_8,
            )
            .map_err(|e| e.to_string())?
        };
        if payload.is_empty() {
            return Err(t(S::ErrNothingToSend).to_owned());
        }
        Ok(Spec {
            target,
            udp: self.udp,
            connections: self.connections.max(1) as usize,
            per_request: self.per_request,
            mode: self.mode,
            rate: (self.rate > 0).then_some(f64::from(self.rate)),
            ramp: Duration::from_secs_f32(self.ramp_s.max(0.0)),
            duration: Some(Duration::from_secs_f32(self.duration_s.max(0.1))),
            count: (self.count > 0).then_some(self.count),
            vary: if !self.payload_hex && self.payload.contains("{{") {
                Some(sockscope_core::rules::template::Template::compile(
                    &sockscope_core::rules::ReplySpec {
                        payload: self.payload.clone(),
                        mode: sockscope_core::codec::payload::InputMode::Escapes,
                        ..sockscope_core::rules::ReplySpec::default()
                    },
                    sockscope_core::codec::TextEncoding::UTF_8,
                )?)
            } else {
                None
            },
            payload,
            expect: None,
            timeout: Duration::from_millis(u64::from(self.timeout_ms.max(1))),
            encoding: sockscope_core::codec::TextEncoding::UTF_8,
        })
    }

    /// Starts a run on its own thread.
    pub fn start(&mut self, ctx: &egui::Context) {
        let spec = match self.spec() {
            Ok(spec) => spec,
            Err(why) => {
                self.error = Some(why);
                return;
            }
        };
        self.error = None;
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Mutex::new(Progress::default()));
        let (stop_in, progress_in, repaint) =
            (Arc::clone(&stop), Arc::clone(&progress), ctx.clone());
        let thread = std::thread::Builder::new()
            .name("sockscope-load".into())
            .spawn(move || {
                let report = bench::run(&spec, &stop_in, Some(&progress_in));
                repaint.request_repaint();
                report
            });
        match thread {
            Ok(thread) => {
                self.report = None;
                self.running = Some(Running {
                    stop,
                    progress,
                    thread: Some(thread),
                });
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// Asks the run to stop (it ends within a poll round).
    pub fn stop(&self) {
        if let Some(running) = &self.running {
            running.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Takes the report of a run that ended.
    fn collect(&mut self) {
        let finished = self
            .running
            .as_ref()
            .and_then(|r| r.thread.as_ref())
            .is_some_and(JoinHandle::is_finished);
        if finished
            && let Some(mut running) = self.running.take()
            && let Some(thread) = running.thread.take()
        {
            self.report = thread.join().ok();
        }
    }

    /// Writes the last report as CSV (the timeline) or JSON (everything).
    pub fn save(&self, path: &std::path::Path, json: bool) -> Result<(), String> {
        let Some(report) = &self.report else {
            return Err(t(S::LoadNoReport).to_owned());
        };
        let text = if json {
            report.to_json()
        } else {
            report.to_csv()
        };
        std::fs::write(path, text).map_err(|e| tf(S::CliCannotWrite, &[&path.display(), &e]))
    }
}

/// What the window asks the app for.
pub enum LoadAsk {
    /// A path to save the report to (true: JSON).
    Save(bool),
}

fn timeline_chart(ui: &mut egui::Ui, timeline: &[bench::Second]) {
    let sent: Vec<[f64; 2]> = timeline
        .iter()
        .map(|s| [s.at as f64, s.sent as f64])
        .collect();
    let received: Vec<[f64; 2]> = timeline
        .iter()
        .map(|s| [s.at as f64, s.received as f64])
        .collect();
    let failed: Vec<[f64; 2]> = timeline
        .iter()
        .map(|s| [s.at as f64, s.failed as f64])
        .collect();
    let p50: Vec<[f64; 2]> = timeline.iter().map(|s| [s.at as f64, s.p50_us]).collect();
    let p99: Vec<[f64; 2]> = timeline.iter().map(|s| [s.at as f64, s.p99_us]).collect();
    ui.columns(2, |cols| {
        if let [left, right] = cols {
            Plot::new("load_rate")
                .height(170.0)
                .legend(Legend::default())
                .y_axis_label(t(S::LoadPerSecond))
                .include_y(0.0)
                .allow_scroll(false)
                .show(left, |plot| {
                    plot.line(Line::new(t(S::LoadSent), PlotPoints::from(sent)));
                    plot.line(Line::new(t(S::LoadReceived), PlotPoints::from(received)));
                    plot.line(Line::new(t(S::LoadFailed), PlotPoints::from(failed)));
                });
            Plot::new("load_latency")
                .height(170.0)
                .legend(Legend::default())
                .y_axis_label("µs")
                .include_y(0.0)
                .allow_scroll(false)
                .show(right, |plot| {
                    plot.line(Line::new("p50", PlotPoints::from(p50)));
                    plot.line(Line::new("p99", PlotPoints::from(p99)));
                });
        }
    });
}

fn fields_ui(ui: &mut egui::Ui, view: &mut LoadView) {
    let running = view.running();
    ui.add_enabled_ui(!running, |ui| {
        egui::Grid::new("load_fields")
            .num_columns(4)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label(t(S::LoadTarget)).id;
                ui.horizontal(|ui| {
                    let field = ui
                        .add(egui::TextEdit::singleline(&mut view.target).desired_width(170.0))
                        .labelled_by(label);
                    super::testhook::tag(ui, &field, "load.target");
                    ui.selectable_value(&mut view.udp, false, "TCP");
                    ui.selectable_value(&mut view.udp, true, "UDP");
                });
                ui.label(t(S::LoadMode));
                ui.horizontal(|ui| {
                    for (mode, label) in [
                        (Mode::Throughput, S::LoadThroughput),
                        (Mode::PingPong, S::LoadPingPong),
                        (Mode::Echo, S::LoadEcho),
                    ] {
                        ui.selectable_value(&mut view.mode, mode, t(label));
                    }
                });
                ui.end_row();
                let label = ui.label(t(S::LoadConnections)).id;
                ui.horizontal(|ui| {
                    ui.add(egui::DragValue::new(&mut view.connections).range(1..=100_000))
                        .labelled_by(label);
                    ui.checkbox(&mut view.per_request, t(S::LoadPerRequest))
                        .on_hover_text(t(S::TipLoadPerRequest));
                });
                let label = ui.label(t(S::LoadRate)).id;
                ui.horizontal(|ui| {
                    ui.add(
                        egui::DragValue::new(&mut view.rate)
                            .range(0..=10_000_000)
                            .suffix(" /s"),
                    )
                    .on_hover_text(t(S::TipLoadRate))
                    .labelled_by(label);
                    let label = ui.label(t(S::LoadRamp)).id;
                    ui.add(
                        egui::DragValue::new(&mut view.ramp_s)
                            .range(0.0..=3600.0)
                            .suffix(" s"),
                    )
                    .labelled_by(label);
                });
                ui.end_row();
                let label = ui.label(t(S::LoadDuration)).id;
                ui.add(
                    egui::DragValue::new(&mut view.duration_s)
                        .range(0.1..=86_400.0)
                        .suffix(" s"),
                )
                .labelled_by(label);
                let label = ui.label(t(S::LoadCount)).id;
                ui.add(egui::DragValue::new(&mut view.count).range(0..=u64::MAX))
                    .on_hover_text(t(S::TipLoadCount))
                    .labelled_by(label);
                ui.end_row();
                ui.label("");
                ui.label("");
                let label = ui.label(t(S::LoadTimeout)).id;
                ui.add(
                    egui::DragValue::new(&mut view.timeout_ms)
                        .range(1..=600_000)
                        .suffix(" ms"),
                )
                .labelled_by(label);
                ui.end_row();
                let label = ui.label(t(S::LoadRequest)).id;
                ui.horizontal(|ui| {
                    let field = ui
                        .add(
                            egui::TextEdit::singleline(&mut view.payload)
                                .font(egui::TextStyle::Monospace)
                                .desired_width(170.0),
                        )
                        .labelled_by(label);
                    super::testhook::tag(ui, &field, "load.payload");
                    ui.selectable_value(&mut view.payload_hex, false, t(S::Text));
                    ui.selectable_value(&mut view.payload_hex, true, t(S::Hex));
                });
                ui.end_row();
            });
    });
}

/// The Load window, when open. Returns what it asks of the app (a file to save to).
pub fn load_window(ctx: &egui::Context, view: &mut LoadView) -> Option<LoadAsk> {
    view.collect();
    if !view.open {
        return None;
    }
    let mut ask = None;
    let mut open = true;
    egui::Window::new(t(S::LoadTitle))
        .id(egui::Id::unique("load_window"))
        .open(&mut open)
        .default_size([760.0, 520.0])
        .pivot(egui::Align2::CENTER_CENTER)
        .default_pos(ctx.content_rect().center())
        .show(ctx, |ui| {
            fields_ui(ui, view);
            if let Some(error) = &view.error {
                ui.label(RichText::new(error).color(ui.visuals().error_fg_color));
            }
            ui.horizontal(|ui| {
                if view.running() {
                    let stop = ui.button(t(S::LoadStop));
                    super::testhook::tag(ui, &stop, "load.stop");
                    if stop.clicked() {
                        view.stop();
                    }
                } else {
                    let start = ui.button(t(S::LoadStart));
                    super::testhook::tag(ui, &start, "load.start");
                    if start.clicked() {
                        view.start(ui.ctx());
                    }
                }
                ui.add_enabled_ui(view.report.is_some(), |ui| {
                    if ui.button(t(S::LoadSaveCsv)).clicked() {
                        ask = Some(LoadAsk::Save(false));
                    }
                    if ui.button(t(S::LoadSaveJson)).clicked() {
                        ask = Some(LoadAsk::Save(true));
                    }
                });
            });
            ui.separator();
            if let Some(running) = &view.running {
                let progress = running
                    .progress
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let line = ui.label(tf(
                    S::LoadLive,
                    &[
                        &format!("{:.1}", progress.elapsed.as_secs_f64()),
                        &progress.sent,
                        &progress.received,
                        &progress.failed,
                        &format!("{:.0}", progress.p50_us),
                        &format!("{:.0}", progress.p99_us),
                    ],
                ));
                super::testhook::tag(ui, &line, "load.live");
                timeline_chart(ui, &progress.timeline);
                // The counts change at most ten times a second.
                ui.ctx().request_repaint_after(Duration::from_millis(100));
            } else if let Some(report) = &view.report {
                let summary = ui.label(RichText::new(report.summary()).monospace());
                super::testhook::tag(ui, &summary, "load.summary");
                timeline_chart(ui, &report.timeline);
            }
        });
    if !open {
        view.stop();
        view.open = false;
    }
    ask
}
